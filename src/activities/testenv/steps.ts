/** A shell program of timed steps run in a container with one exec: nonced markers and their parser. */
import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { DockerFrames } from '../../docker/logs.js';
import { NODE_LOG, docker } from './ownership.js';

export interface StepOutcome {
  label: string;
  exitCode: number;
  startedAt: number;
  durationMs: number;
  output: string;
}

/**
 * A POSIX sh program whose text is constant apart from positional references: every value
 * from config (scripts, parameters, argv) travels as an argument, never as program text.
 */
export class Program {
  /** Marks step boundaries in the output; random per exec, so output cannot fake a marker. */
  readonly nonce = randomBytes(8).toString('hex');
  readonly args: string[] = [this.nonce];
  readonly lines: string[] = [
    'M="@@provisioning:$1"',
    'LOG=' + NODE_LOG,
    'mkdir -p "${LOG%/*}"',
    // step LABEL CMD...: runs CMD with its output to the caller and appended to the node log.
    'step() {',
    '  label=$1; shift',
    // The container's uptime (centiseconds) times each step where it runs; stream batching cannot skew it.
    '  read t0 _ </proc/uptime',
    '  echo "$M:begin:$label"',
    '  echo "==> $label" >>"$LOG"',
    '  st="${LOG%/*}/.status.$$"',
    '  { "$@"; echo $? >"$st"; } 2>&1 | tee -a "$LOG"',
    '  s=$(cat "$st" 2>/dev/null); rm -f "$st"; s=${s:-127}',
    '  echo "<== $label: exit $s" >>"$LOG"',
    '  read t1 _ </proc/uptime',
    '  echo "$M:end:$label:$s:$t0:$t1"',
    '  return "$s"',
    '}',
  ];

  ref(value: string): string {
    this.args.push(value);
    return `"\${${this.args.length}}"`;
  }

  step(label: string, argv: string[], stopOnFailure: boolean): void {
    this.lines.push(`step ${[label, ...argv].map((v) => this.ref(v)).join(' ')}${stopOnFailure ? ' || exit $?' : ''}`);
  }

  argv(): string[] {
    return ['sh', '-c', this.lines.join('\n'), 'provisioning', ...this.args];
  }
}

export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs a program in a container, timing each step by the arrival of its markers. */
export async function runSteps(container: string, program: Program, env: Record<string, string>, onStep: (label: string) => void): Promise<{ steps: StepOutcome[]; exitCode: number; output: string }> {
  const exec = await docker().getContainer(container).exec({ Cmd: program.argv(), Env: Object.entries(env).map(([k, v]) => `${k}=${v}`), AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const frames = new DockerFrames();
  const steps: StepOutcome[] = [];
  let current: { label: string; startedAt: number; lines: string[] } | undefined;
  let partial = '';
  const all: string[] = [];
  const onLine = (line: string) => {
    const marker = `@@provisioning:${program.nonce}:`;
    const begin = line.startsWith(`${marker}begin:`) ? [line, line.slice(marker.length + 6)] : null;
    const end = line.startsWith(`${marker}end:`) ? /^(.*):(\d+):([\d.]*):([\d.]*)$/.exec(line.slice(marker.length + 4)) : null;
    if (begin) {
      current = { label: begin[1]!, startedAt: Date.now(), lines: [] };
      onStep(current.label);
    } else if (end && current) {
      const measured = end[3] && end[4] ? Math.round((Number(end[4]) - Number(end[3])) * 1000) : undefined;
      steps.push({ label: current.label, exitCode: Number(end[2]), startedAt: current.startedAt, durationMs: measured ?? Date.now() - current.startedAt, output: tail(current.lines.join('\n')) });
      current = undefined;
    } else {
      current?.lines.push(line);
      all.push(line);
    }
  };
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      const text = partial + frames.push(chunk);
      const lines = text.split('\n');
      partial = lines.pop()!;
      lines.forEach(onLine);
    });
    stream.on('end', () => {
      if (partial) onLine(partial);
      resolve();
    });
    stream.on('error', reject);
    void Context.current().cancelled.catch(() => {
      stream.destroy();
      resolve();
    });
  });
  const info = await exec.inspect();
  return { steps, exitCode: info.ExitCode ?? -1, output: tail(all.join('\n')) };
}
