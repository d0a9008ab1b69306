/** Turns zod issues into problems a person can act on: key path, what is wrong, how to fix it. */
import type { z } from 'zod';
import { formatKeyPath, type ConfigProblem } from './errors.js';
import { UNKNOWN_KEYS_MARKER } from './fields.js';

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'a table';
  if (typeof value === 'string') return `the string "${value.length > 40 ? value.slice(0, 40) + '...' : value}"`;
  return typeof value === 'number' || typeof value === 'boolean' ? `${typeof value} ${value}` : typeof value;
}

const TYPE_EXAMPLE: Record<string, string> = {
  string: 'a quoted string, e.g. "value"',
  number: 'a number without quotes, e.g. 30',
  int: 'a whole number without quotes, e.g. 30',
  boolean: 'true or false without quotes',
  array: 'an array, e.g. ["a", "b"]',
  object: 'a table',
  record: 'a table of key = "value" pairs',
};

function unionTypes(issue: z.core.$ZodIssue): string[] {
  if (issue.code !== 'invalid_union') return [];
  return issue.errors.flat().flatMap((e) => (e.code === 'invalid_type' ? [e.expected] : []));
}

export function issueToProblems(issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = formatKeyPath(issue.path);
  const at = (key: string) => (path ? `${path}.${key}` : key);
  switch (issue.code) {
    case 'unrecognized_keys': {
      if (issue.message.startsWith(UNKNOWN_KEYS_MARKER)) {
        const fixes = JSON.parse(issue.message.slice(UNKNOWN_KEYS_MARKER.length)) as Array<{ key: string; fix: string }>;
        return fixes.map(({ key, fix }) => ({ path: at(key), problem: `unknown key "${key}"`, fix }));
      }
      return issue.keys.map((key) => ({ path: at(key), problem: `unknown key "${key}"`, fix: 'remove it' }));
    }
    case 'invalid_type': {
      if (issue.input === undefined) {
        return [{ path, problem: 'missing required field', fix: `add ${path.split('.').pop()} = ${TYPE_EXAMPLE[issue.expected] ?? issue.expected}` }];
      }
      return [
        {
          path,
          problem: `expected ${issue.expected}, got ${describe(issue.input)}`,
          fix: `write ${TYPE_EXAMPLE[issue.expected] ?? issue.expected}`,
        },
      ];
    }
    case 'invalid_value':
      return [
        {
          path,
          problem: `${describe(issue.input)} is not allowed`,
          fix: `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
        },
      ];
    case 'too_small': {
      const bound = issue.inclusive ? `at least ${issue.minimum}` : `greater than ${issue.minimum}`;
      if (issue.origin === 'array') return [{ path, problem: issue.message.startsWith('Too small') ? `needs ${bound} entries` : issue.message, fix: 'add an entry' }];
      if (issue.origin === 'string') return [{ path, problem: 'must not be empty', fix: 'give a value' }];
      return [{ path, problem: `must be ${bound} (got ${String(issue.input)})`, fix: `set a value ${bound}` }];
    }
    case 'too_big': {
      const bound = issue.inclusive ? `at most ${issue.maximum}` : `less than ${issue.maximum}`;
      return [{ path, problem: `must be ${bound} (got ${String(issue.input)})`, fix: `set a value ${bound}` }];
    }
    case 'invalid_union': {
      const types = [...new Set(unionTypes(issue))];
      return [
        {
          path,
          problem: `${describe(issue.input)} is not accepted here`,
          fix: types.length ? `write ${types.map((t) => TYPE_EXAMPLE[t] ?? t).join(' or ')}` : 'check the documented format',
        },
      ];
    }
    case 'invalid_format':
      return [{ path, problem: issue.message, fix: 'check the documented format' }];
    case 'custom': {
      const fix = (issue.params as { fix?: string } | undefined)?.fix ?? 'check the documented format';
      return [{ path, problem: issue.message, fix: fix.replaceAll('{path}', path) }];
    }
    default:
      return [{ path, problem: issue.message, fix: 'check the documented format' }];
  }
}

export function zodProblems(error: z.ZodError): ConfigProblem[] {
  return error.issues.flatMap(issueToProblems);
}
