/**
 * Field-level building blocks shared by the registry, settings and topology schemas:
 * strict objects with "did you mean" for unknown keys, names, ports, durations.
 * Pure: imported by workflows through the schema types.
 */
import { z } from 'zod';
import { suggestionFix } from './suggest.js';

/** Marker that lets the issue mapper recover per-key fixes from a strict object's error. */
export const UNKNOWN_KEYS_MARKER = '\u0000unknown-keys:';

/** A strict object: an unknown key is an error whose fix suggests the closest known key. */
export function strict<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      const fixes = issue.keys.map((key) => ({ key, fix: `${suggestionFix(key, known, 'key')} (or remove it)` }));
      return UNKNOWN_KEYS_MARKER + JSON.stringify(fixes);
    },
  });
}

/** Adds a custom issue carrying its own fix text. `{path}` in the fix is replaced by the key path. */
export function addProblem(ctx: z.RefinementCtx, problem: string, fix: string, path: PropertyKey[] = []): void {
  ctx.addIssue({ code: 'custom', message: problem, path, params: { fix } });
}

/** A DNS label: lowercase letters, digits and '-', 1 to 63 characters, no leading or trailing '-'. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function dnsLabelProblem(name: string): string | undefined {
  if (name.length === 0) return 'name is empty';
  if (name.length > 63) return `name "${name.slice(0, 20)}..." is ${name.length} characters long; at most 63 are allowed`;
  if (/[A-Z]/.test(name) && DNS_LABEL.test(name.toLowerCase())) return `name "${name}" has uppercase letters`;
  if (!DNS_LABEL.test(name)) return `name "${name}" is not a DNS label`;
  return undefined;
}

export const DNS_LABEL_FIX =
  'use lowercase letters, digits and "-" only, at most 63 characters, starting and ending with a letter or digit';

export function dnsLabel(what: string) {
  return z.string().superRefine((name, ctx) => {
    const problem = dnsLabelProblem(name);
    if (problem) addProblem(ctx, `${what} ${problem.replace(/^name /, '')}`, DNS_LABEL_FIX);
  });
}

/** A name of a process or container elsewhere on the machine: safe characters only, never shell syntax. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function safeName(what: string) {
  return z.string().superRefine((name, ctx) => {
    if (!SAFE_NAME.test(name)) {
      addProblem(ctx, `invalid ${what} "${name}"`, 'use letters, digits, ".", "_" and "-" only (no spaces or shell characters)');
    }
  });
}

export function positiveSeconds() {
  return z.number().positive();
}

export function port() {
  return z.number().int().min(1).max(65535);
}

export function positiveInt() {
  return z.number().int().positive();
}

export function nonEmptyString() {
  return z.string().min(1);
}

export function stringMap() {
  return z.record(z.string(), z.string());
}

export function url(what: string, protocols: readonly string[]) {
  return z.string().superRefine((text, ctx) => {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      addProblem(ctx, `${what} "${text}" is not a valid URL`, `write a full URL such as ${protocols[0]}//localhost:8080/health`);
      return;
    }
    if (!protocols.includes(parsed.protocol)) {
      addProblem(ctx, `${what} "${text}" uses ${parsed.protocol.replace(':', '')}`, `use ${protocols.join(' or ').replace(/:/g, '')}`);
    }
  });
}

const SHELL_OPERATORS = ['|', '&&', '||', ';', '>', '<', '`', '$('];

/**
 * Splits a command line into argv the way a user reads it (spaces separate words,
 * single and double quotes group, backslash escapes). It is never run through a shell,
 * so shell operators are refused rather than passed on as literal arguments.
 */
export function splitCommand(line: string): { argv: string[] } | { error: string } {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      const op = SHELL_OPERATORS.find((o) => line.startsWith(o, i));
      if (op) return { error: `shell operator "${op}" is not supported` };
      word += c;
      inWord = true;
    }
  }
  if (quote) return { error: `unclosed ${quote} quote` };
  if (inWord) argv.push(word);
  if (argv.length === 0) return { error: 'command is empty' };
  return { argv };
}

/** A command as a string (split into argv) or an argv array; never a shell string. */
export function command(what: string) {
  return z.union([z.string(), z.array(z.string()).min(1)]).transform((value, ctx): string[] => {
    if (Array.isArray(value)) return value;
    const split = splitCommand(value);
    if ('error' in split) {
      addProblem(
        ctx,
        `${what} "${value}": ${split.error}`,
        'write the command as an argv array, e.g. ["pg_isready", "-h", "localhost"]; to use a shell on purpose write ["sh", "-c", "..."]',
      );
      return [];
    }
    return split.argv;
  });
}
