/**
 * The project's custom search attributes, so the Web UI and `temporal workflow list --query`
 * can filter by operation and target. Registered by the dev server harness at start.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** What the workflow does: platform-start, platform-stop, server-create, testenv, ... */
export const OPERATION = defineSearchAttributeKey('ProvisioningOperation', SearchAttributeType.KEYWORD);
/** What it acts on: service names, server names, environment nodes. */
export const TARGETS = defineSearchAttributeKey('ProvisioningTargets', SearchAttributeType.KEYWORD_LIST);

export const SEARCH_ATTRIBUTES = [OPERATION, TARGETS] as const;

/** `Name=Type` arguments for `temporal server start-dev --search-attribute`. */
export function searchAttributeFlags(): string[] {
  const cliType: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList' };
  return SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${cliType[key.type] ?? key.type}`]);
}
