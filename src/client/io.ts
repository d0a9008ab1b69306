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
  /** Runs another command line of this CLI and returns its exit code (set by runCli; `workflow submit` uses it). */
  run?: (argv: readonly string[]) => Promise<number>;
}

/** A closed pipe (`provisioning ... | head`) ends output quietly instead of crashing. */
function exitOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

export function processIo(): Io {
  exitOnClosedPipe(process.stdout);
  exitOnClosedPipe(process.stderr);
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
