import { StringDecoder } from 'node:string_decoder';

/** Docker's multiplexed stream (containers without a TTY), demuxed as it arrives: frames may split across chunks. */
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

  /** Whatever is left once the stream ended (a cut-off frame), as text. */
  end(): string {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return this.decoder.end(rest);
  }
}

/** Docker's log stream for containers without a TTY (8-byte frame headers before each chunk), all at once. */
export function demuxDockerLogs(raw: Buffer | string): string {
  const frames = new DockerFrames();
  return frames.push(typeof raw === 'string' ? Buffer.from(raw, 'binary') : raw) + frames.end();
}
