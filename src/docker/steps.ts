/**
 * The one way the project runs scripts in a container: a shell program of timed steps in a
 * single exec, its step boundaries marked with a nonce that is new per exec (so script output
 * cannot forge a marker), every value from config passed as an argument, never as program text.
 * Used by the docker server provider and by test environments.
 */
import { randomBytes } from 'node:crypto';
import { dockerClient } from './client.js';
import { DockerFrames } from './logs.js';

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
    'LOG="$2"',
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

  /** @param log the file in the container every step's output is appended to as well. */
  constructor(log: string) {
    this.args.push(log);
  }

  ref(value: string): string {
    this.args.push(value);
    return `"\${${this.args.length}}"`;
  }

  step(label: string, argv: string[], stopOnFailure: boolean): void {
    this.lines.push(`step ${[label, ...argv].map((v) => this.ref(v)).join(' ')}${stopOnFailure ? ' || exit $?' : ''}`);
  }

  /** A plain command (no markers, no timing) that runs only when the steps before it succeeded. */
  command(argv: string[]): void {
    this.lines.push(`${argv.map((v) => this.ref(v)).join(' ')} || exit $?`);
  }

  argv(): string[] {
    return ['sh', '-c', this.lines.join('\n'), 'provisioning', ...this.args];
  }
}

export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export interface StepsOutcome {
  steps: StepOutcome[];
  exitCode: number;
  /** The last lines of everything the steps printed, markers removed. */
  output: string;
}

/**
 * Runs a program in a container, timing each step by the arrival of its markers. When
 * `signal` aborts, the output stream is dropped and the outcome so far returned.
 */
export async function runSteps(container: string, program: Program, env: Record<string, string>, onStep: (label: string) => void = () => undefined, signal?: AbortSignal): Promise<StepsOutcome> {
  const exec = await dockerClient().getContainer(container).exec({ Cmd: program.argv(), Env: Object.entries(env).map(([k, v]) => `${k}=${v}`), AttachStdout: true, AttachStderr: true });
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
    const stop = () => {
      stream.destroy();
      resolve();
    };
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
  const info = await exec.inspect();
  return { steps, exitCode: info.ExitCode ?? -1, output: tail(all.join('\n')) };
}
