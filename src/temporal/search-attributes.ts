/**
 * Makes sure the Temporal namespace knows the project's search attributes. The dev server
 * gets them at start; another server gets them from the first worker that connects, when
 * its operator API allows it (a self-hosted server does; Temporal Cloud needs them added
 * in its console or tcld).
 */
import proto from '@temporalio/proto';
import type { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../model/search-attributes.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;
const INDEXED_TYPE: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** The temporal CLI command that registers them, for messages. */
export function registerCommand(namespace: string): string {
  const cliType: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList' };
  return `temporal operator search-attribute create --namespace ${namespace} ${SEARCH_ATTRIBUTES.map((k) => `--name ${k.name} --type ${cliType[k.type]}`).join(' ')}`;
}

/** Adds whichever are missing; returns the names it added. */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = SEARCH_ATTRIBUTES.filter((k) => !known.has(k.name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED_TYPE[k.type]!])),
  });
  return missing.map((k) => k.name);
}

/** True for the error a server gives when a start names a search attribute it does not know. */
export function isUnknownSearchAttribute(err: unknown): boolean {
  const e = err as { message?: string; cause?: { message?: string } } | undefined;
  const text = `${e?.message ?? ''} ${e?.cause?.message ?? ''}`;
  return /search attribute/i.test(text) && SEARCH_ATTRIBUTES.some((k) => text.includes(k.name));
}
