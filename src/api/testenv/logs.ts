/** An environment's logs, read from its containers directly (no Temporal needed). */
import { UsageError } from '../../config/errors.js';
import { ENV_ID } from '../../config/testenv-schema.js';
import { suggestionFix } from '../../config/suggest.js';
import { dockerClient } from '../../docker/client.js';
import { DockerFrames, demuxDockerLogs } from '../../docker/logs.js';
import { environmentResources } from '../../docker/resources.js';
import { NODE_LABEL } from '../../model/labels.js';
import { NotFoundError } from '../errors.js';

interface NodeContainer {
  node: string;
  container: string;
  id: string;
}

async function nodeContainers(id: string, nodes?: readonly string[]): Promise<NodeContainer[]> {
  if (!ENV_ID.test(id)) throw new UsageError(`"${id}" is not a test environment id`, 'list them with "provisioning test env list"');
  const { containers } = await environmentResources(dockerClient(), id);
  const all = containers.map((c) => ({ node: c.Labels[NODE_LABEL] ?? c.Id.slice(0, 12), container: c.Names[0]?.slice(1) ?? '', id: c.Id })).sort((a, b) => a.node.localeCompare(b.node));
  if (all.length === 0) throw new NotFoundError(`test environment "${id}" has no containers: it does not exist or was cleaned up`, 'list running environments with "provisioning test env list"');
  const known = all.map((c) => c.node);
  for (const n of nodes ?? []) if (!known.includes(n)) throw new UsageError(`environment ${id} has no node "${n}"`, suggestionFix(n, known, 'node'));
  return all.filter((c) => !nodes || nodes.includes(c.node));
}

/** Each node's log so far: install and test output, and what its processes print. */
export async function environmentLogs(id: string, { nodes, tail }: { nodes?: readonly string[]; tail?: number } = {}): Promise<Array<{ node: string; container: string; text: string }>> {
  const docker = dockerClient();
  const out = [];
  for (const c of await nodeContainers(id, nodes)) {
    const raw = await docker.getContainer(c.id).logs({ stdout: true, stderr: true, follow: false, ...(tail ? { tail } : {}) });
    out.push({ node: c.node, container: c.container, text: demuxDockerLogs(raw) });
  }
  return out;
}

/** Each node's log lines as they come, until `signal` aborts or every container's log ends. */
export async function followEnvironmentLogs(id: string, onLine: (node: string, line: string) => void, { nodes, tail, signal }: { nodes?: readonly string[]; tail?: number; signal?: AbortSignal } = {}): Promise<void> {
  const docker = dockerClient();
  const chosen = await nodeContainers(id, nodes);
  await Promise.all(
    chosen.map(async (c) => {
      const stream = (await docker.getContainer(c.id).logs({ stdout: true, stderr: true, follow: true, ...(tail ? { tail } : {}) })) as NodeJS.ReadableStream & { destroy: () => void };
      const frames = new DockerFrames();
      let partial = '';
      await new Promise<void>((resolve) => {
        const stop = () => {
          stream.destroy();
          resolve();
        };
        if (signal?.aborted) return stop();
        signal?.addEventListener('abort', stop, { once: true });
        stream.on('data', (chunk: Buffer) => {
          const lines = (partial + frames.push(chunk)).split('\n');
          partial = lines.pop()!;
          for (const line of lines) onLine(c.node, line);
        });
        stream.on('end', () => resolve());
        stream.on('error', () => resolve());
      });
    }),
  );
}
