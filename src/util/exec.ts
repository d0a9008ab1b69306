/** execa, loaded on first use: most commands never run a program, and execa is ~260 ES modules to load. */
import type { Options } from 'execa';

export async function exec<O extends Options>(file: string, args: readonly string[], options: O) {
  const { execa } = await import('execa');
  return await execa(file, args, options);
}
