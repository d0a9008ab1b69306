/** Loopback port helpers. */
import net from 'node:net';

/** A port the OS says is free right now on the given host. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when nothing listens on host:port (a bind succeeds). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A free port in [low, high): for servers that store their port in a 16-bit signed column
 * (Temporal's cluster membership), where the OS's ephemeral range is too high.
 */
export async function freePortIn(low: number, high: number, host = '127.0.0.1', taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (!taken.has(port) && (await isPortFree(port, host))) return port;
  }
  throw new Error(`no free port between ${low} and ${high} on ${host}`);
}
