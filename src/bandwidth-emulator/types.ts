/** What the Bandwidth emulator takes, keeps and offers (see emulator.ts). */
import type { FieldError } from './check-request.ts';

export interface BandwidthEmulatorOptions {
  port?: number;
  host?: string;
  accountId: string;
  applicationId: string;
  clientId: string;
  clientSecret: string;
  /** The application's callback URL (status and inbound); callbacks wait until one is set. */
  callbackUrl?: string;
  callbackUsername?: string;
  callbackPassword?: string;
  tokenLifetimeSeconds?: number;
  /** Delay before the first callback of a message. */
  callbackDelayMs?: number;
  /** First retry of an unacknowledged callback; doubles up to callbackRetryMaxMs. */
  callbackRetryMs?: number;
  callbackRetryMaxMs?: number;
  /** Bandwidth waits 10 s for a 2xx. */
  callbackTimeoutMs?: number;
  /** Gives up a callback after this many attempts (Bandwidth: after 24 hours). */
  callbackMaxAttempts?: number;
  log?: (line: string) => void;
}

export type Outcome =
  | { outcome: 'delivered' }
  | { outcome: 'failed'; errorCode: number; description?: string };

/** The next `count` submits get this answer instead of being checked. */
export interface SubmitAnswer {
  status: number;
  count?: number;
  retryAfterSeconds?: number;
  type?: string;
  description?: string;
}

export interface ReceivedSubmit {
  accountId: string;
  authorization?: string;
  contentType?: string;
  body: unknown;
  /** The 202 body, when accepted. */
  answer: { status: number; body: unknown };
  fieldErrors: FieldError[];
  unknownFields: string[];
  receivedAt: string;
}

export interface SentCallback {
  events: Array<Record<string, unknown>>;
  attempts: number;
  /** Attempts that were answered 401 with a challenge and sent again with credentials. */
  challenges: number;
  lastStatus?: number;
  lastError?: string;
  acknowledgedAt?: string;
  gaveUp?: boolean;
}

export interface InboundInjection {
  from: string;
  /** Every recipient of the group, ours and others. */
  to: string[];
  /** The numbers of the account that receive it (one callback each); default: all of `to`. */
  owners?: string[];
  text?: string;
  media?: Array<{ contentType: string; base64: string; filename?: string }>;
}

export interface BandwidthEmulator {
  url: string;
  /** Give the connector these. */
  baseUrl: string;
  tokenUrl: string;
  submits: ReceivedSubmit[];
  callbacks: SentCallback[];
  tokenRequests(): number;
  /** Tokens issued and not revoked. */
  tokensIssued(): number;
  /** Tokens issued so far stop working (the next submit gets 401). */
  revokeTokens(): void;
  setOutcome(phoneNumber: string, outcome: Outcome): void;
  answerNext(answer: SubmitAnswer): void;
  controlCallbacks(control: { duplicate?: boolean; hold?: boolean }): void;
  setApplication(target: { callbackUrl?: string; username?: string; password?: string }): void;
  injectInbound(input: InboundInjection): string[];
  close(): Promise<void>;
}
