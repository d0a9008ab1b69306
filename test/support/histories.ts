/**
 * Recorded workflow histories as test fixtures: written by `npm run record:histories`
 * (test/record/), replayed by test/workflows/replay-fixtures.test.ts against the current
 * workflow bundle, so a change that would break a run in flight fails the suite.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/**
 * Stored as protobufjs's own JSON (toJSON / fromObject: enums by name, int64 and bytes as
 * strings). Not the SDK's historyToJSON: in this install @temporalio/common and
 * @temporalio/proto each carry a nested copy of protobufjs, and its instanceof check fails.
 */
const History = temporal.api.history.v1.History;
export const historyFromJSON = (json: unknown): temporal.api.history.v1.History => History.fromObject(json as Record<string, unknown>);

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/histories');

export interface HistoryFixture {
  name: string;
  workflowId: string;
  workflowType: string;
  history: temporal.api.history.v1.IHistory;
  /** The file's history as JSON, for tests that alter it. */
  json: unknown;
}

/**
 * Writes the history of one run (default: the latest) as `<name>.json`, and each child's as
 * `<name>.child-N.json`. Returns the files written.
 */
export async function recordHistory(client: Client, workflowId: string, name: string, runId?: string): Promise<string[]> {
  const files: string[] = [];
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const type = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? 'unknown';
  const file = path.join(FIXTURES, `${name}.json`);
  await writeFile(file, `${JSON.stringify({ workflowId, workflowType: type, history: History.fromObject(history).toJSON() })}\n`);
  files.push(file);
  const children = (history.events ?? []).flatMap((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution ?? []);
  for (const [i, child] of children.entries()) files.push(...(await recordHistory(client, child.workflowId!, `${name}.child-${i + 1}`, child.runId ?? undefined)));
  return files;
}

export async function loadFixtures(): Promise<HistoryFixture[]> {
  const names = (await readdir(FIXTURES)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    names.map(async (file) => {
      const raw = JSON.parse(await readFile(path.join(FIXTURES, file), 'utf8')) as { workflowId: string; workflowType: string; history: unknown };
      return { name: file.replace(/\.json$/, ''), workflowId: raw.workflowId, workflowType: raw.workflowType, history: historyFromJSON(raw.history), json: raw.history };
    }),
  );
}
