/**
 * The local base image: built FROM scratch around Debian's static busybox, because no
 * registry can be reached. Built once when missing; every container feature uses it.
 */
import { copyFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { imagePresent } from './client.js';
import { IMAGE_LABEL } from '../model/labels.js';

export const BASE_IMAGE = 'provisioning-base:busybox';

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

const DOCKERFILE = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
`;

/** True for an ELF executable without a program interpreter, i.e. statically linked. */
export async function isStaticElf(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(64);
    await handle.read(header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2) return false; // ELF, 64-bit
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    await handle.read(table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === 3) return false; // PT_INTERP
    return true;
  } finally {
    await handle.close();
  }
}

export async function findStaticBusybox(): Promise<string | undefined> {
  for (const candidate of BUSYBOX_CANDIDATES) {
    try {
      if (await isStaticElf(candidate)) return candidate;
    } catch {
      // not there; try the next one
    }
  }
  return undefined;
}

export async function ensureBaseImage(docker: Docker, tag = BASE_IMAGE): Promise<{ tag: string; built: boolean }> {
  if (await imagePresent(docker, tag)) return { tag, built: false };
  const busybox = await findStaticBusybox();
  if (!busybox) {
    throw new Error(`cannot build ${tag}: no static busybox at ${BUSYBOX_CANDIDATES.join(' or ')} (install Debian's busybox-static)`);
  }
  const context = await mkdtemp(path.join(os.tmpdir(), 'provisioning-base-'));
  try {
    await copyFile(busybox, path.join(context, 'busybox'));
    await writeFile(path.join(context, 'Dockerfile'), DOCKERFILE);
    const stream = await docker.buildImage({ context, src: ['Dockerfile', 'busybox'] }, { t: tag, labels: { [IMAGE_LABEL]: 'base' } });
    const output = await new Promise<Array<{ error?: string }>>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, res: Array<{ error?: string }>) => (err ? reject(err) : resolve(res)));
    });
    const failure = output.find((line) => line.error);
    if (failure) throw new Error(`building ${tag} failed: ${failure.error}`);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return { tag, built: true };
}
