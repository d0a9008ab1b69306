/**
 * The committed histories (test/fixtures/histories, recorded by `npm run record:histories`
 * before a workflow change) replay against today's workflow bundle: a change to a workflow's
 * command sequence that is not behind patched() would break runs in flight, and fails here.
 */
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { historyFromJSON, loadFixtures } from '../support/histories.js';

const fixtures = await loadFixtures();
const bundle = { workflowBundle: { codePath: inject('workflowBundlePath') } };

describe('committed workflow histories', () => {
  it('cover every workflow type', () => {
    expect(new Set(fixtures.map((f) => f.workflowType))).toEqual(
      new Set(['planStartup', 'platformStart', 'platformStop', 'platformRestart', 'platformUpdate', 'serviceSupervisor', 'serverCreate', 'serverProvision', 'taskservCreate', 'clusterCreate', 'serverDelete', 'testEnvironment', 'reapTestEnvironmentsWorkflow']),
    );
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s replays', async (_name, fixture) => {
    await Worker.runReplayHistory(bundle, fixture.history, fixture.workflowId);
  });

  it('would catch a history the code does not produce', async () => {
    const fixture = fixtures.find((f) => f.name === 'platform-start')!;
    const json = structuredClone(fixture.json) as { events: Array<{ activityTaskScheduledEventAttributes?: { activityType: { name: string } } }> };
    json.events.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!.activityType = { name: 'stopService' };
    await expect(Worker.runReplayHistory(bundle, historyFromJSON(json), fixture.workflowId)).rejects.toThrow(/[Nn]ondetermin|[Dd]eterminism/);
  });
});
