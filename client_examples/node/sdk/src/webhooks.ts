// Verifying Stamina's webhook deliveries (Standard Webhooks; docs/api.md
// 4.3.1): the headers webhook-id, webhook-timestamp and webhook-signature
// ("v1,<base64 HMAC-SHA256>", space-separated when several) over the raw
// body, with the tenant's secret ("whsec_<base64>", client.webhookSecret()).
// An event may arrive more than once: deduplicate by webhook-id.
import { createHmac, timingSafeEqual } from 'node:crypto';

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** A delivered event, as the server sent it. */
export interface WebhookEvent {
  type: 'job.queued' | 'job.running' | 'job.succeeded' | 'job.failed' | 'job.cancelled';
  timestamp: string;
  data: {
    job: string;
    model: string;
    concept: string;
    state: string;
    attempt: number;
    result_version?: string;
    error?: { code: number; message: string; retryable: boolean };
  };
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : (value ?? '');
  }
  throw new WebhookVerificationError(`missing header ${name}`);
}

/**
 * Returns the parsed event, or throws WebhookVerificationError. `body` must
 * be the raw bytes received (not re-serialized JSON).
 */
export function verifyWebhook(
  secret: string,
  headers: Headers,
  body: Buffer | string,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): WebhookEvent {
  if (!secret.startsWith('whsec_')) {
    throw new WebhookVerificationError('the secret does not start with "whsec_"');
  }
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const seconds = Number(timestamp);
  if (!Number.isInteger(seconds)) throw new WebhookVerificationError('webhook-timestamp is not a number');
  const now = options.nowSeconds ?? Date.now() / 1000;
  if (Math.abs(now - seconds) > (options.toleranceSeconds ?? 300)) {
    throw new WebhookVerificationError('webhook-timestamp is too far from now (a replay?)');
  }
  const raw = typeof body === 'string' ? Buffer.from(body) : body;
  const expected = Buffer.from(
    'v1,' +
      createHmac('sha256', key)
        .update(`${id}.${timestamp}.`)
        .update(raw)
        .digest('base64'),
  );
  for (const candidate of header(headers, 'webhook-signature').split(' ')) {
    const given = Buffer.from(candidate);
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      return JSON.parse(raw.toString('utf8')) as WebhookEvent;
    }
  }
  throw new WebhookVerificationError('no signature matches');
}
