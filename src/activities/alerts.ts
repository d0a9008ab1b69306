/**
 * Delivers one alert to one webhook: POST of the alert (or its Slack message) as JSON, with
 * the alert's id in an Idempotency-Key header. A 2xx answer is delivery; anything else throws
 * so Temporal retries, except answers that retrying cannot change (4xx other than 408 and
 * 429), which fail at once. The URL is never logged (Slack's carry their secret in the path).
 */
import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { alertBody, targetName, type AlertDelivery } from '../model/alerts.js';

/** Under the supervisor's 10 s heartbeat timeout for the activity, which sends no heartbeat. */
const TIMEOUT_MS = 8_000;

async function targetUrl(delivery: AlertDelivery): Promise<string> {
  const { target } = delivery;
  if (target.url) return target.url;
  try {
    return (await readFile(target.url_file!, 'utf8')).trim();
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`cannot read the webhook URL from ${target.url_file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'AlertConfigError');
  }
}

export async function deliverAlert(delivery: AlertDelivery): Promise<{ status: number }> {
  const name = targetName(delivery.target);
  const url = await targetUrl(delivery);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': delivery.alert.id, 'user-agent': 'provisioning-alerts' },
      body: JSON.stringify(alertBody(delivery.target.format, delivery.alert)),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new Error(`${name}: ${reason}`);
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.ok) return { status: response.status };
  const message = `${name} answered ${response.status} ${response.statusText}`;
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) throw ApplicationFailure.nonRetryable(message, 'AlertRejected');
  throw new Error(message);
}
