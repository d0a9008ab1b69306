/**
 * The command provider: runs the commands the settings configure, as argv templates with
 * {infra}, {server}, {settings}, {taskserv} and {script} replaced, never through a shell —
 * the bridge to existing provisioning scripts (a Nushell CLI, Terraform, a cloud CLI).
 */
import { exec } from '../../util/exec.js';
import { ServiceConfigError } from '../drivers/types.js';
import type { Provider, ServerContext } from './types.js';

export function fillTemplate(template: readonly string[], values: Record<string, string>): string[] {
  return template.map((arg) => arg.replace(/\{(infra|server|settings|taskserv|script)\}/g, (_, key: string) => values[key] ?? ''));
}

async function run(ctx: ServerContext, kind: 'create' | 'delete' | 'exists' | 'exec', extra: Record<string, string> = {}, env: Record<string, string> = {}) {
  const spec = ctx.settings.providers.command;
  if (!spec) throw new ServiceConfigError('provider "command" has no commands in the settings');
  const argv = fillTemplate(spec[kind], { infra: ctx.settings.infra, server: ctx.server.hostname, settings: ctx.settings.source, ...extra });
  const [program, ...args] = argv as [string, ...string[]];
  const result = await exec(program, args, { reject: false, all: true, env, timeout: 30 * 60_000 });
  return { argv, exitCode: result.exitCode ?? -1, output: result.all ?? '' };
}

export const commandProvider: Provider = {
  async exists(ctx) {
    return (await run(ctx, 'exists')).exitCode === (ctx.settings.providers.command?.exists_exit_code ?? 0);
  },
  async create(ctx) {
    const result = await run(ctx, 'create');
    if (result.exitCode !== 0) throw new Error(`create command ${JSON.stringify(result.argv)} exited ${result.exitCode}: ${result.output.trim().split('\n').slice(-5).join(' | ')}`);
    return { created: true, output: result.output };
  },
  async delete(ctx) {
    const result = await run(ctx, 'delete');
    if (result.exitCode !== 0) throw new Error(`delete command ${JSON.stringify(result.argv)} exited ${result.exitCode}: ${result.output.trim()}`);
    return { deleted: true, output: result.output };
  },
  async probe(ctx) {
    return { ready: await this.exists(ctx), installed: [] };
  },
  async run(ctx, taskserv, scripts, env) {
    let output = '';
    for (const script of scripts) {
      const result = await run(ctx, 'exec', { taskserv, script: script.file }, env);
      output += (output && !output.endsWith('\n') ? '\n' : '') + result.output;
      if (result.exitCode !== 0) return { exitCode: result.exitCode, output, failedStep: script.step };
    }
    return { exitCode: 0, output };
  },
};
