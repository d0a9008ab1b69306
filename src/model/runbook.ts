/**
 * What the Temporal Web UI shows of each run, so that it reads like a runbook: a one-line
 * summary and the plan (Markdown) given at start, and the current details (Markdown) the
 * workflow keeps up to date from the same snapshot its progress query answers, so the Web UI
 * and the CLI say the same thing. Pure: the client API and the workflows both use it.
 */
import type { Registry } from '../config/registry-schema.js';
import type { EnvironmentPlan } from '../config/testenv-schema.js';
import type { Settings } from '../config/settings-schema.js';
import type { CriticalChain } from '../graph/critical-chain.js';
import type { PlatformOperation, PlatformProgress } from './platform.js';
import type { ServerCreateProgress, ServerProgress } from './servers.js';
import { taskservOrder } from './servers.js';
import type { SupervisorState } from './supervisor.js';
import type { EnvState } from './testenv.js';

/** "a, b, c" — or the first `max` and how many more. */
export function nameList(names: readonly string[], max = 5): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

// --- platform -----------------------------------------------------------------------------

/** `start 5 services: api-gateway, ...`; a stop or restart of everything running says so. */
export function platformSummary(operation: PlatformOperation, targets: readonly string[], platform = 'default'): string {
  const where = platform === 'default' ? '' : ` (platform ${platform})`;
  if (targets.length === 0) return operation === 'start' ? `start nothing${where}` : `${operation} every running service${where}`;
  return `${operation} ${plural(targets.length, 'service')}: ${nameList(targets)}${where}`;
}

/** The plan: the services in the order the operation takes them (`order`), with mode and dependencies. */
export function platformPlan(registry: Registry, operation: PlatformOperation, order: readonly string[]): string {
  const rows = order.map((name, i) => {
    const s = registry.services[name];
    return `| ${i + 1} | ${cell(name)} | ${s?.deployment.mode ?? ''} | ${cell(s?.dependencies.join(', ') || '—')} |`;
  });
  const how = operation === 'update' ? 'one at a time, each healthy before the next is stopped' : `each as soon as what it ${operation === 'stop' ? 'is needed by has stopped' : 'depends on is healthy'}`;
  const all = operation === 'update' ? 'every running service, one at a time, dependencies first' : 'every running service, dependents first';
  const title = `**Plan:** ${operation} ${order.length > 0 ? `${plural(order.length, 'service')} in this order (${how})` : all}`;
  return [title, '', ...(rows.length > 0 ? ['| # | service | mode | depends on |', '|---|---|---|---|', ...rows] : [])].join('\n');
}

/** Now: the phase, how many are done, and each service's state and what it waits on. */
export function platformNow(progress: PlatformProgress): string {
  const done = progress.services.filter((s) => ['started', 'already-running', 'stopped', 'not-running'].includes(s.state)).length;
  const rows = progress.services.map((s) => {
    const detail = s.waitingOn?.length ? `waiting on ${s.waitingOn.join(', ')}` : s.error ?? (s.healthyMs !== undefined ? `healthy after ${seconds(s.healthyMs)}` : s.pid !== undefined ? `pid ${s.pid}` : '');
    return `| ${cell(s.name)} | ${s.state} | ${cell(detail)} |`;
  });
  return [`**Now:** ${progress.phase} — ${done}/${progress.services.length} done`, '', '| service | state | detail |', '|---|---|---|', ...rows].join('\n');
}

/** The critical chain of a finished start, as `provisioning platform analyze` prints it. */
export function chainMarkdown(chain: CriticalChain): string {
  if (chain.links.length === 0) return '**Critical chain:** nothing was started';
  const rows = chain.links.map((l) => `| ${cell(l.name)} | @${seconds(l.offsetMs)} | +${seconds(l.durationMs)} | ${seconds(l.waitMs)}${l.after ? ` after ${cell(l.after)}` : ' after the start'} |`);
  return [
    `**Critical chain:** ${seconds(chain.totalMs)} to the last service healthy; lower bound ${seconds(chain.lowerBoundMs)} (the longest chain of spawn-to-healthy times)`,
    '',
    '| service | healthy at | spawn to healthy | waited |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** A supervisor now: status, restarts, and its last checks. */
export function supervisorNow(state: Pick<SupervisorState, 'service' | 'status' | 'restarts' | 'reason' | 'checks' | 'pid'>): string {
  const rows = state.checks.slice(-5).reverse().map((c) => `| ${new Date(c.at).toISOString()} | ${c.healthy ? 'healthy' : c.running ? 'unhealthy' : 'not running'} | ${c.durationMs} ms | ${cell(c.message)} |`);
  return [
    `**Now:** ${state.service} ${state.status}${state.pid !== undefined ? ` (pid ${state.pid})` : ''}, ${plural(state.restarts, 'restart')}${state.reason ? ` — ${cell(state.reason)}` : ''}`,
    '',
    '| last checks | result | took | message |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

// --- servers ------------------------------------------------------------------------------

export function serverCreateSummary(settings: Pick<Settings, 'infra' | 'servers'>, servers: readonly string[], check: boolean): string {
  const names = servers.length > 0 ? servers : settings.servers.map((s) => s.hostname);
  return `${check ? 'check' : 'create'} ${plural(names.length, 'server')} of infra ${settings.infra}: ${nameList(names)}`;
}

/** Each server with its provider and its taskservs in install order. */
export function serverCreatePlan(settings: Pick<Settings, 'servers' | 'taskservs'>, servers: readonly string[]): string {
  const chosen = settings.servers.filter((s) => servers.length === 0 || servers.includes(s.hostname));
  const rows = chosen.map((s) => `| ${cell(s.hostname)} | ${s.provider} | ${cell(taskservOrder(settings, s.taskservs).join(' → ') || '—')} |`);
  return ['**Plan:** create the servers at once, then install each one\'s taskservs in dependency order', '', '| server | provider | taskservs in order |', '|---|---|---|', ...rows].join('\n');
}

export function serverCreateNow(progress: ServerCreateProgress): string {
  const rows = progress.servers.map((s) => `| ${cell(s.hostname)} | ${s.state} |`);
  return [`**Now:** ${progress.phase}`, '', '| server | state |', '|---|---|', ...rows].join('\n');
}

export function serverNow(progress: ServerProgress): string {
  const rows = progress.taskservs.map((t) => `| ${cell(t.name)} | ${t.state} |`);
  return [`**Now:** ${progress.hostname} ${progress.state}${progress.error ? ` — ${cell(progress.error)}` : ''}`, '', '| taskserv | state |', '|---|---|', ...rows].join('\n');
}

// --- test environments ----------------------------------------------------------------

export function testenvSummary(plan: Pick<EnvironmentPlan, 'type' | 'subject' | 'nodes'>): string {
  return `test env ${plan.subject} (${plural(plan.nodes.length, 'node')}, ${plan.type.replaceAll('_', ' ')})`;
}

/** The nodes with their roles, resources and taskservs in install order. */
export function testenvPlan(plan: Pick<EnvironmentPlan, 'nodes' | 'network' | 'ttlSeconds' | 'autoCleanup'>): string {
  const rows = plan.nodes.map((n) => `| ${cell(n.name)} | ${n.role} | ${n.resources.cpu_millicores}m CPU, ${n.resources.memory_mb} MB | ${cell(n.order.join(' → ') || '—')} |`);
  return [
    `**Plan:** network ${plan.network.subnet ? `${plan.network.name} (${plan.network.subnet})` : `from the pool, or ${plan.network.name} of its own`}; nodes, then each one's taskservs in order; removed ${plan.autoCleanup ? 'after the tests' : `on cleanup or after ${plan.ttlSeconds} s`}`,
    '',
    '| node | role | resources | taskservs in order |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

export function testenvNow(state: Pick<EnvState, 'phase' | 'nodes' | 'error' | 'lastRun'>): string {
  const rows = state.nodes.map((n) => `| ${cell(n.name)} | ${n.state} | ${cell(n.address ?? '')} | ${cell(n.taskservs.map((t) => `${t.name}:${t.state}`).join(' '))} |`);
  const last = state.lastRun ? ` — last run: ${state.lastRun.tests.filter((t) => t.passed).length}/${state.lastRun.tests.length} tests passed` : '';
  return [`**Now:** ${state.phase}${state.error ? ` — ${cell(state.error)}` : ''}${last}`, '', '| node | state | address | taskservs |', '|---|---|---|---|', ...rows].join('\n');
}
