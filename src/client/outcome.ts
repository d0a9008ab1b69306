/** The CLI's reading of a run that may fail with a result: the result is shown, and the exit code is 1. */
import { settled } from '../api/errors.js';
import type { Io } from './io.js';

export async function outcomeOf<R>(io: Io, work: Promise<R>): Promise<R> {
  const { value, ok } = await settled(work);
  if (!ok) io.exitCode = 1;
  return value;
}
