/** The checker thread's entry (started by checker.ts): runs the watches main asks for (watches.ts). */
import { writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { CHECKER_THREAD_NAME, endWatch, startWatch, watchState, type FromChecker, type ToChecker } from './watches.js';

const port = parentPort;
if (!port) throw new Error('checker-thread.ts runs as a worker thread (started by checker.ts), not on its own');
// Named, so `top -H` and `ps -L` (and bench:monitor) tell it from the other "node" threads. Linux only.
try {
  writeFileSync('/proc/thread-self/comm', CHECKER_THREAD_NAME);
} catch {
  // another system: the thread keeps its default name
}
const post = (message: FromChecker) => port.postMessage(message);
port.on('message', (message: ToChecker) => {
  if (message.type === 'watch') startWatch(message, post);
  else if (message.type === 'end') endWatch(message.id);
  else post({ type: 'state', id: message.id, ...watchState() });
});
