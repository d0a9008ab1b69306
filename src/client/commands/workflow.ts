/** `provisioning workflow ...`: find, inspect and cancel the project's workflows through Temporal visibility. */
import { WorkflowNotFoundError } from '@temporalio/client';
import { Option, type Command } from 'commander';
import { OPERATION, TARGETS } from '../../model/search-attributes.js';
import { UsageError } from '../../config/errors.js';
import { printJson, type Io } from '../io.js';
import { parsePositiveInt } from '../options.js';
import { renderTable } from '../render/table.js';
import { addTemporalOptions, connect, webUiLink, type TemporalOptions } from '../temporal-options.js';

const STATUSES = ['running', 'completed', 'failed', 'canceled', 'terminated', 'timed-out', 'continued-as-new'] as const;
const STATUS_QUERY: Record<(typeof STATUSES)[number], string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  canceled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
  'continued-as-new': 'ContinuedAsNew',
};

/** The visibility query for the filters; values are validated, so nothing the user types reaches the query unchecked. */
export function listQuery(operation?: string, status?: (typeof STATUSES)[number]): string {
  const parts: string[] = [];
  if (operation) {
    if (!/^[a-z][a-z0-9-]*$/.test(operation)) throw new UsageError(`operation "${operation}" is not a valid name`, 'use lowercase letters, digits and "-", e.g. platform-start or server-create');
    parts.push(`${OPERATION.name} = "${operation}"`);
  } else {
    parts.push(`${OPERATION.name} IS NOT NULL`);
  }
  if (status) parts.push(`ExecutionStatus = "${STATUS_QUERY[status]}"`);
  return parts.join(' AND ');
}

async function missing<T>(id: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`no workflow with id "${id}"`, 'list them with "provisioning workflow list"');
    throw err;
  }
}

export function registerWorkflowCommands(program: Command, io: Io): void {
  const workflow = program.command('workflow');

  addTemporalOptions(
    workflow
      .command('list')
      .description('list workflows by operation and status (Temporal visibility, search attribute ProvisioningOperation)')
      .option('--operation <op>', 'platform-start, platform-stop, platform-restart, server-create, server-check, server-delete, taskserv-create, cluster-create')
      .addOption(new Option('--status <status>', 'execution status').choices(STATUSES))
      .option('--limit <n>', 'at most this many', parsePositiveInt, 20)
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExamples:\n  provisioning workflow list\n  provisioning workflow list --operation server-create --status running'),
  ).action(async (opts: TemporalOptions & { operation?: string; status?: (typeof STATUSES)[number]; limit: number; json?: boolean }) => {
    const query = listQuery(opts.operation, opts.status);
    const { client, close } = await connect(io, opts);
    try {
      const rows: Array<{ workflowId: string; runId: string; type: string; status: string; operation?: string; targets?: string[]; startTime: string }> = [];
      for await (const w of client.workflow.list({ query })) {
        rows.push({
          workflowId: w.workflowId,
          runId: w.runId,
          type: w.type,
          status: w.status.name,
          ...(w.typedSearchAttributes.get(OPERATION) ? { operation: w.typedSearchAttributes.get(OPERATION)! } : {}),
          ...(w.typedSearchAttributes.get(TARGETS) ? { targets: w.typedSearchAttributes.get(TARGETS)! } : {}),
          startTime: w.startTime.toISOString(),
        });
        if (rows.length >= opts.limit) break;
      }
      if (opts.json) return printJson(io, { query, workflows: rows });
      io.out(rows.length ? renderTable(['WORKFLOW ID', 'OPERATION', 'STATUS', 'STARTED', 'TARGETS'], rows.map((r) => [r.workflowId, r.operation ?? r.type, r.status, r.startTime, (r.targets ?? []).join(',')])) : `No workflows match: ${query}`);
    } finally {
      await close();
    }
  });

  addTemporalOptions(
    workflow
      .command('status')
      .argument('<id>', 'workflow id, e.g. platform/default or server-create/demo')
      .description('show a workflow\'s status, and its result when it has finished')
      .option('--json', 'print JSON')
      .addHelpText('after', '\nExamples:\n  provisioning workflow status platform/default\n  provisioning workflow status server-create/demo --json'),
  ).action(async (id: string, opts: TemporalOptions & { json?: boolean }) => {
    const { client, settings, close } = await connect(io, opts);
    try {
      const handle = client.workflow.getHandle(id);
      const d = await missing(id, () => handle.describe());
      const result: unknown = d.status.name === 'COMPLETED' ? await handle.result().catch(() => undefined) : undefined;
      const summary = { workflowId: id, runId: d.runId, type: d.type, status: d.status.name, startTime: d.startTime.toISOString(), ...(d.closeTime ? { closeTime: d.closeTime.toISOString() } : {}), operation: d.typedSearchAttributes.get(OPERATION) ?? null, historyLength: d.historyLength };
      if (opts.json) return printJson(io, { ...summary, ...(result !== undefined ? { result } : {}) });
      const link = webUiLink(io.env, settings, id, d.runId);
      io.out([`Workflow: ${id} (run ${d.runId})`, `Type: ${d.type}`, `Status: ${d.status.name}`, `Started: ${summary.startTime}`, ...(summary.closeTime ? [`Closed: ${summary.closeTime}`] : []), ...(link ? [`Web UI: ${link}`] : [])].join('\n'));
    } finally {
      await close();
    }
  });

  addTemporalOptions(
    workflow
      .command('cancel')
      .argument('<id>', 'workflow id')
      .description('cancel a running workflow; it cleans up what it must and stops')
      .addHelpText('after', '\nExamples:\n  provisioning workflow cancel server-create/demo'),
  ).action(async (id: string, opts: TemporalOptions) => {
    const { client, close } = await connect(io, opts);
    try {
      const handle = client.workflow.getHandle(id);
      const d = await missing(id, () => handle.describe());
      if (d.status.name !== 'RUNNING') throw new UsageError(`workflow ${id} is not running (${d.status.name})`, 'only a running workflow can be cancelled');
      await handle.cancel();
      io.out(`Cancellation requested for ${id} (run ${d.runId}).`);
    } finally {
      await close();
    }
  });
}
