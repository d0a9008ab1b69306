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
