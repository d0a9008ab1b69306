/** Facts about processes by PID, used to tell a live process of ours from a stale PID file. */
import { readFile } from 'node:fs/promises';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a running process, or undefined when it is gone. */
export async function commandLine(pid: number): Promise<string | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean).join(' ');
  } catch {
    if (process.platform === 'linux') return undefined;
    const { execa } = await import('execa');
    const ps = await execa('ps', ['-p', String(pid), '-o', 'command='], { reject: false });
    return ps.exitCode === 0 ? ps.stdout.trim() || undefined : undefined;
  }
}

/** A child process's combined output as it arrives, and a wait for a line of it. */
export interface WatchedOutput {
  output: () => string;
  /** Resolves once the output contains `text`; throws with the output when the child exits first or `timeoutMs` passes. */
  until: (text: string, what: string, timeoutMs: number) => Promise<void>;
}

/** Watches `child.all` (execa with `all: true`), keeping the last `keep` characters. */
export function watchOutput(child: { all?: NodeJS.ReadableStream | null; exitCode: number | null }, keep = 200_000): WatchedOutput {
  let text = '';
  child.all?.on('data', (chunk: Buffer) => void (text = (text + chunk.toString()).slice(-keep)));
  return {
    output: () => text,
    until: async (wanted, what, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (!text.includes(wanted)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${what} ${child.exitCode !== null ? `exited with ${child.exitCode}` : `did not come up within ${timeoutMs / 1000} s`}:\n${text}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
