/**
 * `${VAR}` expansion in every string of a parsed configuration tree; `${VAR:-default}`
 * uses the default when VAR is unset or empty; `$${` writes a literal `${`. An unknown
 * variable without a default is a problem naming it and the key path. Pure: the
 * environment is passed in.
 */
import { formatKeyPath, type ConfigProblem } from './errors.js';

const VARIABLE = /\$\$\{|\$\{([^}]*)\}/g;
const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export function expandVariables(
  tree: unknown,
  env: Readonly<Record<string, string | undefined>>,
): { value: unknown; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') return expandString(node, env, path, problems);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object' && !(node instanceof Date)) {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { value: walk(tree, []), problems };
}

function expandString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  path: PropertyKey[],
  problems: ConfigProblem[],
): string {
  return text.replace(VARIABLE, (match, inner: string | undefined) => {
    if (match === '$${') return '${';
    const reference = inner === undefined ? null : REFERENCE.exec(inner);
    if (!reference) {
      problems.push({
        path: formatKeyPath(path),
        problem: `"${match}" is not a valid variable reference`,
        fix: 'use ${NAME} or ${NAME:-default} with letters, digits and underscores, or write $${ for a literal "${"',
      });
      return match;
    }
    const [, name, fallback] = reference as unknown as [string, string, string | undefined];
    const value = env[name] === '' && fallback !== undefined ? undefined : env[name];
    if (value === undefined && fallback !== undefined) return fallback;
    if (value === undefined) {
      problems.push({
        path: formatKeyPath(path),
        problem: `unknown variable \${${name}}`,
        fix: `set ${name} in the environment, give a default with \${${name}:-value}, or write the value literally`,
      });
      return match;
    }
    return value;
  });
}
