/** The checks every front end needs before it submits anything: names that exist, names that are valid. */
import { UsageError } from '../config/errors.js';
import { dnsLabelProblem } from '../config/fields.js';
import type { Registry } from '../config/registry-schema.js';
import type { Settings } from '../config/settings-schema.js';
import { suggestionFix } from '../config/suggest.js';
import { HOST_NAME_FIX, hostProblem } from '../model/worker-defaults.js';

/** A valid host name, returned; else a usage error. */
export function assertHost(host: string): string {
  const problem = hostProblem(host);
  if (problem) throw new UsageError(`invalid host: ${problem}`, HOST_NAME_FIX);
  return host;
}

export function assertPlatformName(name: string): void {
  const problem = dnsLabelProblem(name);
  if (problem) throw new UsageError(`invalid platform ${problem}`, 'use lowercase letters, digits and "-", at most 63 characters');
}

/** Every name must be a service of the registry; otherwise a usage error with the closest name. */
export function assertServices(registry: Registry, names: readonly string[]): void {
  const known = Object.keys(registry.services);
  for (const name of names) {
    if (!registry.services[name]) throw new UsageError(`unknown service "${name}" (not in ${registry.source})`, suggestionFix(name, known, 'service'));
  }
}

export function assertServers(settings: Settings, names: readonly string[]): void {
  const known = settings.servers.map((s) => s.hostname);
  for (const name of names) {
    if (!known.includes(name)) throw new UsageError(`server "${name}" is not in ${settings.source}`, suggestionFix(name, known, 'server'));
  }
}
