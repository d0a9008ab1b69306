import { StringDecoder } from 'node:string_decoder';

/** Docker's log stream for containers without a TTY: 8-byte frame headers before each chunk. */

export function demuxDockerLogs(raw: Buffer | string): string {
  const buffer = typeof raw === 'string' ? Buffer.from(raw, 'binary') : raw;
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const kind = buffer[offset]!;
    const size = buffer.readUInt32BE(offset + 4);
    if (kind > 2 || buffer[offset + 1] !== 0 || offset + 8 + size > buffer.length) {
      // Not framed (a TTY container): the rest is plain output.
      chunks.push(buffer.subarray(offset));
      offset = buffer.length;
      break;
    }
    chunks.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  if (offset < buffer.length) chunks.push(buffer.subarray(offset));
  return Buffer.concat(chunks).toString('utf8');
}

/** An incremental demuxer for a live multiplexed stream: frames may split across chunks. */
export class DockerFrames {
  private pending: Buffer = Buffer.alloc(0);

  /** Keeps a character split across frames whole. */
  private readonly decoder = new StringDecoder('utf8');

  /** Feeds a chunk; returns the text of every frame completed so far. */
  push(chunk: Buffer): string {
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.pending.length >= 8) {
      const kind = this.pending[0]!;
      if (kind > 2 || this.pending[1] !== 0) {
        // Not framed (a TTY): plain output.
        out.push(this.pending);
        this.pending = Buffer.alloc(0);
        break;
      }
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      out.push(this.pending.subarray(8, 8 + size));
      this.pending = this.pending.subarray(8 + size);
    }
    return this.decoder.write(Buffer.concat(out));
  }
}
