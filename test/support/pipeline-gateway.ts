import type { Logger } from 'pino';
import { createLogger } from '../../src/cli/logger.ts';
import { loadConfig } from '../../src/config/config.ts';
import { type Gateway, startGateway } from '../../src/gateway.ts';
import { startTestGateway, type TestGateway, testStoreEnv } from './gateway.ts';
import { waitFor } from './wait-for.ts';
import type { ReceivedRequest } from './webhook-receiver.ts';

/**
 * Settings for end-to-end pipeline tests: both roles in one process, fast simulator reports and
 * retries, quick polling, and 127.0.0.0/8 reachable (the receivers and media servers live there).
 */
export const PIPELINE_ENV: Readonly<Record<string, string>> = {
  ROLES: 'api,worker',
  SIMULATOR_REPORT_DELAY_MS: '20',
  SIMULATOR_SLOW_REPORT_DELAY_MS: '300',
  RETRY_SCALE: '0.001',
  WORKER_POLL_MS: '20',
  OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8',
  WEBHOOK_TIMEOUT_MS: '5000',
  SHUTDOWN_GRACE_MS: '200',
};

export const FINAL_STATUSES = new Set([
  'delivered',
  'sending_failed',
  'delivery_failed',
  'delivery_unconfirmed',
  'expired',
]);

/** The gateway with PIPELINE_ENV (plus `env`), via the shared harness. */
export function startPipelineGateway(
  opts: { env?: Record<string, string>; dataDir?: string; logger?: Logger } = {},
): Promise<TestGateway> {
  return startTestGateway({
    dataDir: opts.dataDir,
    logger: opts.logger,
    env: { ...PIPELINE_ENV, ...opts.env },
  });
}

/** A worker-only gateway (no API, no bootstrap) on an existing data dir (and its TEST_STORE store). */
export async function startWorkerGateway(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<Gateway> {
  const config = loadConfig({
    ...PIPELINE_ENV,
    PORT: '0',
    DATA_DIR: dataDir,
    BOOTSTRAP: 'false',
    LOG_LEVEL: 'silent',
    ...(await testStoreEnv(dataDir)),
    ...env,
    ROLES: 'worker',
  });
  return startGateway(config, createLogger(config.logLevel));
}

// Loose shapes of what the API answers; tests assert on the fields they care about.
export interface ApiRecipient {
  phone_number: string;
  status: string;
}
export interface ApiError {
  code: string;
  title: string;
  detail?: string;
}
export interface ApiMedia {
  url: string;
  content_type: string | null;
  sha256: string | null;
  size: number | null;
}
export interface ApiMessage {
  id: string;
  record_type: string;
  to: ApiRecipient[];
  media: ApiMedia[];
  errors: ApiError[];
  sent_at: string | null;
  completed_at: string | null;
  received_at: string;
  group_message_id: string;
  webhook_url: string | null;
  [key: string]: unknown;
}
export interface ApiAttempt {
  attempt: number;
  url: string;
  outcome: string;
  status_code: number | null;
  duration_ms: number;
  response_body: string | null;
  error: string | null;
  created_at: string;
}
export interface ApiDelivery {
  id: string;
  event_type: string;
  message_id: string;
  group_message_id: string;
  status: string;
  delivered_to: string | null;
  urls: Array<{ url: string; gone: boolean }>;
  attempts: ApiAttempt[];
}

/** What the receivers are sent: a Telnyx `deliveryUpdate` envelope. */
export interface WebhookEnvelope {
  data: {
    event_type: string;
    id: string;
    occurred_at: string;
    payload: ApiMessage;
    record_type: string;
  };
  meta: { attempt: number; delivered_to: string };
}

export async function api<T = unknown>(
  gw: TestGateway,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${gw.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/** POST /v2/messages/group_mms from the first sandbox number; throws unless it is accepted. */
export async function sendGroupMms(gw: TestGateway, body: Record<string, unknown>): Promise<ApiMessage> {
  const res = await api<{ data: ApiMessage }>(gw, 'POST', '/v2/messages/group_mms', {
    from: gw.numbers[0],
    ...body,
  });
  if (res.status !== 200) {
    throw new Error(`group_mms answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body.data;
}

export async function getMessage(gw: TestGateway, id: string): Promise<ApiMessage> {
  const res = await api<{ data: ApiMessage }>(gw, 'GET', `/v2/messages/${id}`);
  if (res.status !== 200) throw new Error(`GET /v2/messages/${id} answered ${res.status}`);
  return res.body.data;
}

export async function getDeliveries(gw: TestGateway, id: string): Promise<ApiDelivery[]> {
  const res = await api<{ data: ApiDelivery[] }>(gw, 'GET', `/v2/messages/${id}/webhook_deliveries`);
  if (res.status !== 200) throw new Error(`GET webhook_deliveries of ${id} answered ${res.status}`);
  return res.body.data;
}

/** Polls GET /v2/messages/{id} until every recipient has a final status. */
export function waitForFinal(gw: TestGateway, id: string, timeoutMs = 20_000): Promise<ApiMessage> {
  return waitFor(
    async () => {
      const m = await getMessage(gw, id);
      return m.to.every((r) => FINAL_STATUSES.has(r.status)) ? m : null;
    },
    { timeoutMs, description: `message ${id} final` },
  );
}

/** Polls the deliveries route until every event of the message is delivered or failed. */
export function waitForDeliveriesSettled(
  gw: TestGateway,
  id: string,
  expectedEvents: number,
  timeoutMs = 20_000,
): Promise<ApiDelivery[]> {
  return waitFor(
    async () => {
      const d = await getDeliveries(gw, id);
      return d.length === expectedEvents && d.every((e) => e.status !== 'pending') ? d : null;
    },
    { timeoutMs, description: `${expectedEvents} settled webhook events of ${id}` },
  );
}

export function envelopeOf(request: ReceivedRequest): WebhookEnvelope {
  return JSON.parse(request.rawBody) as WebhookEnvelope;
}

/** The envelopes a receiver got whose payload belongs to group message `groupId`. */
export function envelopesFor(received: readonly ReceivedRequest[], groupId: string): WebhookEnvelope[] {
  return received
    .filter((r) => r.rawBody.length > 0)
    .map(envelopeOf)
    .filter((e) => e.data.payload.group_message_id === groupId);
}
