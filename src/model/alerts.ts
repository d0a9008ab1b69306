/**
 * Alerts: what a supervisor tells webhooks when a service becomes unhealthy, is restarted
 * (or its restart fails), or supervision gives up. Pure; the workflow builds them, the
 * delivery activity sends them.
 */
export const ALERT_EVENTS = ['unhealthy', 'restarted', 'restart-failed', 'gave-up'] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

export const ALERT_FORMATS = ['json', 'slack'] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];

/** One webhook: where (a URL, or a file holding it, read where the alert is sent), which events, how hard to try. */
export interface AlertTarget {
  url?: string;
  url_file?: string;
  format: AlertFormat;
  events: AlertEvent[];
  /** Delivery attempts before the alert is reported as undeliverable. */
  attempts: number;
}

export interface Alert {
  /** Unique per event: <supervisor workflow id>#<n>. The same on every retry, so a receiver can drop a repeat. */
  id: string;
  event: AlertEvent;
  service: string;
  platform: string;
  /** Epoch ms of the event (workflow time). */
  at: number;
  message: string;
  restarts: number;
}

export interface AlertDelivery {
  target: AlertTarget;
  alert: Alert;
}

const ICON: Record<AlertEvent, string> = { unhealthy: ':warning:', restarted: ':arrows_counterclockwise:', 'restart-failed': ':x:', 'gave-up': ':rotating_light:' };

/** The request body for the target's format: the alert itself, or a Slack incoming-webhook message. */
export function alertBody(format: AlertFormat, alert: Alert): unknown {
  if (format === 'json') return alert;
  return { text: `${ICON[alert.event]} *${alert.service}* (platform ${alert.platform}) ${alert.event}: ${alert.message} (restarts: ${alert.restarts})` };
}

/** A webhook named without its secret parts: scheme and host only. */
export function targetName(target: AlertTarget): string {
  if (target.url_file) return `the webhook in ${target.url_file}`;
  try {
    const u = new URL(target.url!);
    return `webhook ${u.protocol}//${u.host}`;
  } catch {
    return 'webhook';
  }
}
