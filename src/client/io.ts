/** What a command may touch: output streams, environment, working directory, exit code. */
import type { Env } from '../config/registry.js';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Env;
  cwd: string;
  /** Live progress is drawn only on a terminal. */
  isTTY: boolean;
  /** Set by a command that finished but failed (1); usage errors throw instead (2). */
  exitCode?: number;
}

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdout.isTTY),
  };
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
