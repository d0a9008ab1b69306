/**
 * The project's Prometheus metrics: one place for their names, units, labels and help. Recorded
 * through the Temporal SDK's metric meter — in workflows (`metricMeter` of @temporalio/workflow:
 * nothing is emitted while a history replays, so each counts what happened once) and in the
 * worker — and exported with the SDK's own on the worker's `--metrics-listen` endpoint
 * (counters get the `_total` suffix there). Pure: takes the meter it is given.
 */
import type { MetricMeter } from '@temporalio/common';

export const METRIC = {
  servicesStarted: 'provisioning_services_started',
  servicesFailed: 'provisioning_services_failed',
  servicesRestarted: 'provisioning_services_restarted',
  timeToHealthy: 'provisioning_service_time_to_healthy',
  healthChecks: 'provisioning_health_checks',
  serversCreated: 'provisioning_servers_created',
  taskservInstalls: 'provisioning_taskserv_installs',
  testenvsCreated: 'provisioning_testenvs_created',
  testenvsPassed: 'provisioning_testenvs_passed',
  testenvsFailed: 'provisioning_testenvs_failed',
  testenvsReaped: 'provisioning_testenvs_reaped',
  reaperRemovals: 'provisioning_reaper_removals',
  ownedContainers: 'provisioning_owned_containers',
  ownedNetworks: 'provisioning_owned_networks',
} as const;

/** Recorders over `meter`; each call records one event with its labels. */
export function metrics(meter: MetricMeter) {
  const count = (name: string, unit: string, help: string) => (labels: Record<string, string>, n = 1) => meter.createCounter(name, unit, help).add(n, labels);
  return {
    serviceStarted: count(METRIC.servicesStarted, 'services', 'services a platform start or restart started and saw healthy'),
    serviceFailed: count(METRIC.servicesFailed, 'services', 'services whose start or health wait failed'),
    serviceRestarted: count(METRIC.servicesRestarted, 'restarts', 'restarts by a supervisor (result ok or failed)'),
    timeToHealthy: (labels: Record<string, string>, seconds: number) => meter.createHistogram(METRIC.timeToHealthy, 'float', 's', 'from spawn to the first healthy answer').record(seconds, labels),
    healthCheck: count(METRIC.healthChecks, 'checks', 'health checks recorded by supervisors, by result (healthy, unhealthy, not-running)'),
    serverCreated: count(METRIC.serversCreated, 'servers', 'servers a server or cluster create made (not those that existed)'),
    taskservInstall: count(METRIC.taskservInstalls, 'installs', 'taskserv installs on servers, by result (installed, failed)'),
    testenvCreated: count(METRIC.testenvsCreated, 'environments', 'test environments that became ready'),
    testenvPassed: count(METRIC.testenvsPassed, 'runs', 'test runs in environments that passed'),
    testenvFailed: count(METRIC.testenvsFailed, 'environments', 'test environments whose set-up or a test run failed'),
    testenvReaped: count(METRIC.testenvsReaped, 'environments', 'expired or orphaned environments the reaper removed'),
    reaperRemovals: count(METRIC.reaperRemovals, 'resources', 'containers and networks the reaper removed, by kind'),
  };
}
