/** Files shipped with the package, found from this module (src/config/ or the bundle's dist/cli/: both two levels below the root). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The Grafana dashboards (README "Observing it"). */
export const SHIPPED_DASHBOARDS = path.join(packageRoot, 'deploy', 'grafana');
