import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/util/net.js';
import { detectDocker } from '../support/docker-gate.js';

describe('the Docker test gate', () => {
  it('fails the run under CI=true when no engine answers', async () => {
    const port = await freePort();
    await expect(detectDocker({ CI: 'true', DOCKER_HOST: `tcp://127.0.0.1:${port}` })).rejects.toThrow(/CI=true and no Docker engine at tcp:\/\/127\.0\.0\.1/);
  });

  it('skips with one loud line elsewhere', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const result = await detectDocker({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }, (l) => lines.push(l));
    expect(result.available).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('SKIPPING DOCKER TESTS');
  });
});
