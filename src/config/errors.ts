/**
 * Configuration errors: each problem names the file, the key path, what is wrong and
 * how to fix it. The CLI prints them and exits with code 2.
 */

export interface ConfigProblem {
  /** Key path inside the file, e.g. `services.api-gateway.dependencies[1]`, or `line 3, column 7`. */
  path: string;
  problem: string;
  fix: string;
}

export class ConfigError extends Error {
  readonly exitCode = 2;

  readonly problems: ConfigProblem[];

  constructor(
    readonly file: string,
    problems: ConfigProblem[],
    readonly what = 'configuration',
  ) {
    super(formatProblems(file, sortProblems(problems), what));
    this.problems = sortProblems(problems);
    this.name = 'ConfigError';
  }
}

/** A usage error that is not tied to a file: a bad CLI argument, an unknown name. */
export class UsageError extends Error {
  readonly exitCode = 2;

  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(fix ? `${message}\n  fix: ${fix}` : message);
    this.name = 'UsageError';
  }
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function formatProblems(file: string, problems: ConfigProblem[], what: string): string {
  const header = `invalid ${what} ${file}: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}`;
  const lines = problems.map((p) => `  ${file}: ${p.path ? `${p.path}: ` : ''}${p.problem}\n    fix: ${p.fix}`);
  return [header, ...lines].join('\n');
}

/** Formats a key path the way a reader finds it in the file: `a.b[2].c`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const key = /^[A-Za-z0-9_-]+$/.test(String(part)) ? String(part) : JSON.stringify(String(part));
      out += out ? `.${key}` : key;
    }
  }
  return out;
}
