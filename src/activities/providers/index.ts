import type { ProviderName } from '../../config/settings-schema.js';
import { commandProvider } from './command.js';
import { dockerProvider } from './docker.js';
import type { Provider } from './types.js';

const PROVIDERS: Record<ProviderName, Provider> = { docker: dockerProvider, command: commandProvider };

export function providerFor(name: ProviderName): Provider {
  return PROVIDERS[name];
}

export * from './types.js';
