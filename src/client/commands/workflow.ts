/** `provisioning workflow ...`: find, inspect and cancel the project's workflows through Temporal visibility. */
import { Option, type Command } from 'commander';
import { printJson, type Io } from '../io.js';
import { parsePositiveInt } from '../options.js';
import { renderTable } from '../render/table.js';
import { addTemporalOptions, withApi, type TemporalOptions } from '../temporal-options.js';
import { WORKFLOW_STATUSES as STATUSES, type WorkflowStatusFilter } from '../../model/workflow-status.js';
import { registerSubmitCommand } from './workflow-submit.js';

const workflows = () => import('../../api/workflows.js');

export function registerWorkflowCommands(program: Command, io: Io): void {
  const workflow = program.command('workflow');
  registerSubmitCommand(workflow, io);

  addTemporalOptions(
    workflow
      .command('list')
      .description('list workflows by operation and status (Temporal visibility, search attribute ProvisioningOperation)')
      .option('--operation <op>', 'platform-start, platform-stop, platform-restart, server-create, server-check, server-delete, taskserv-create, cluster-create')
      .addOption(new Option('--status <status>', 'execution status').choices(STATUSES))
      .option('--limit <n>', 'at most this many', parsePositiveInt, 20)
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExamples:\n  provisioning workflow list\n  provisioning workflow list --operation server-create --status running'),
  ).action(async (opts: TemporalOptions & { operation?: string; status?: WorkflowStatusFilter; limit: number; json?: boolean }) => {
    const api = await workflows();
    api.listQuery(opts.operation, opts.status); // bad input is refused before connecting
    return withApi(io, opts, async (ctx) => {
      const { query, workflows: rows } = await api.listWorkflows(ctx, { ...(opts.operation ? { operation: opts.operation } : {}), ...(opts.status ? { status: opts.status } : {}), limit: opts.limit });
      if (opts.json) return printJson(io, { query, workflows: rows });
      io.out(rows.length ? renderTable(['WORKFLOW ID', 'OPERATION', 'STATUS', 'STARTED', 'TARGETS'], rows.map((r) => [r.workflowId, r.operation ?? r.type, r.status, r.startTime, (r.targets ?? []).join(',')])) : `No workflows match: ${query}`);
    });
  });

  addTemporalOptions(
    workflow
      .command('status')
      .argument('<id>', 'workflow id, e.g. platform/default or server-create/demo')
      .description('show a workflow\'s status, and its result when it has finished')
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExamples:\n  provisioning workflow status platform/default\n  provisioning workflow status server-create/demo --json'),
  ).action((id: string, opts: TemporalOptions & { json?: boolean }) =>
    withApi(io, opts, async (ctx) => {
      const { webUi, ...status } = await (await workflows()).workflowStatus(ctx, id);
      if (opts.json) return printJson(io, status);
      io.out([`Workflow: ${id} (run ${status.runId})`, `Type: ${status.type}`, `Status: ${status.status}`, `Started: ${status.startTime}`, ...(status.closeTime ? [`Closed: ${status.closeTime}`] : []), ...(webUi ? [`Web UI: ${webUi}`] : [])].join('\n'));
    }),
  );

  addTemporalOptions(
    workflow
      .command('cancel')
      .argument('<id>', 'workflow id')
      .description('cancel a running workflow; it cleans up what it must and stops')
      .addHelpText('after', '\nExamples:\n  provisioning workflow cancel server-create/demo'),
  ).action((id: string, opts: TemporalOptions) =>
    withApi(io, opts, async (ctx) => {
      const { runId } = await (await workflows()).cancelWorkflow(ctx, id);
      io.out(`Cancellation requested for ${id} (run ${runId}).`);
    }),
  );
}
