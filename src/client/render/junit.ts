/** JUnit XML for CI: one testsuite per node, one testcase per test. Pure. */
import type { TestResult } from '../../model/testenv.js';

function xml(text: string): string {
  // Characters XML 1.0 forbids are dropped; the five specials are escaped.
  return text
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

export interface JunitInput {
  /** The suite's name: "testenv <id> (<subject>)". */
  name: string;
  tests: TestResult[];
  /** A setup failure (no tests ran): reported as one failed testcase "setup". */
  setupError?: string;
}

export function renderJunit({ name, tests, setupError }: JunitInput): string {
  const nodes = [...new Set(tests.map((t) => t.node))];
  const suites = nodes.map((node) => {
    const own = tests.filter((t) => t.node === node);
    const failures = own.filter((t) => !t.passed).length;
    const cases = own.map((t) => {
      const open = `    <testcase classname="${xml(`${name}.${node}`)}" name="${xml(t.name)}" time="${seconds(t.durationMs)}"`;
      if (t.passed) return `${open}>\n      <system-out>${xml(t.output)}</system-out>\n    </testcase>`;
      return `${open}>\n      <failure message="${xml(`exit code ${t.exitCode}`)}" type="exit">${xml(t.output)}</failure>\n    </testcase>`;
    });
    const time = own.reduce((sum, t) => sum + t.durationMs, 0);
    return `  <testsuite name="${xml(`${name}.${node}`)}" tests="${own.length}" failures="${failures}" errors="0" time="${seconds(time)}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  if (setupError !== undefined) {
    suites.push(
      `  <testsuite name="${xml(`${name}.setup`)}" tests="1" failures="0" errors="1" time="0.000">\n    <testcase classname="${xml(name)}" name="setup" time="0.000">\n      <error message="the environment could not be set up" type="setup">${xml(setupError)}</error>\n    </testcase>\n  </testsuite>`,
    );
  }
  const total = tests.length + (setupError !== undefined ? 1 : 0);
  const failures = tests.filter((t) => !t.passed).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xml(name)}" tests="${total}" failures="${failures}" errors="${setupError !== undefined ? 1 : 0}">\n${suites.join('\n')}\n</testsuites>\n`;
}
