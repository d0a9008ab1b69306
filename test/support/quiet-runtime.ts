/** Worker logs at WARN in tests: state changes and bundling at INFO drown the test output. */
import { Runtime } from '@temporalio/worker';
import { QuietLogger } from '../../src/worker/worker.js';

try {
  Runtime.install({ logger: new QuietLogger('WARN') });
} catch {
  // Installed already by an earlier test file in this process.
}
