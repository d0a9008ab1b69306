/**
 * `provisioning test ...`: containerized test environments as Temporal workflows.
 *   test quick <taskserv>                      create, install, test, clean up; exit 0 only if all passed
 *   test env single|server|cluster|create ...  create an environment and wait until it is ready
 *   test env list|status|start|run|logs|cleanup|reap
 *   test topology list|show
 */
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { registerCreateCommands } from './testenv/create.js';
import { registerEnvCommands } from './testenv/env.js';
import { registerQuickCommand } from './testenv/quick.js';
import { registerTopologyCommands } from './testenv/topology.js';

export function registerTestCommands(program: Command, io: Io): void {
  const test = program.command('test');
  registerQuickCommand(test, io);
  const env = test.command('env').description('create, inspect, run and clean up test environments');
  registerCreateCommands(env, io);
  registerEnvCommands(env, io);
  registerTopologyCommands(test, io);
}
