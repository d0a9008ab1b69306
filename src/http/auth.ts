/** Bearer-token auth: compared in constant time, never logged. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../config/errors.js';
import { Unauthorized } from './errors.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** A checker for `Authorization` headers; undefined when auth is off. */
export function bearerCheck(token: string | undefined): ((header: string | undefined) => void) | undefined {
  if (token === undefined) return undefined;
  const expected = digest(token);
  return (header) => {
    const match = /^Bearer (.+)$/.exec(header ?? '');
    if (!match) throw new Unauthorized(header ? 'the Authorization header is not "Bearer <token>"' : 'no Authorization header; this endpoint needs a bearer token');
    if (!timingSafeEqual(digest(match[1]!), expected)) throw new Unauthorized('wrong token');
  };
}

/** The token from --token-file, else $PROVISIONING_API_TOKEN; at least 16 characters. */
export async function loadToken(file: string | undefined, env: Record<string, string | undefined>): Promise<string | undefined> {
  let token = env.PROVISIONING_API_TOKEN;
  if (file) {
    try {
      token = (await readFile(file, 'utf8')).trim();
    } catch {
      throw new UsageError(`cannot read the token file ${file}`, 'check the path given to --token-file');
    }
  }
  if (token !== undefined && token.length < 16) throw new UsageError('the API token is shorter than 16 characters', 'use a long random token, e.g. openssl rand -hex 32');
  return token || undefined;
}
