import { z } from 'zod';

/**
 * What each connector type stores as settings, checked when an operator adds one. Secrets (the
 * passwords, an upstream's API key, Bandwidth's client secret) are stored with the rest and never
 * shown back: see `redactSettings`.
 */

const optionalText = z.string().min(1).max(256).optional();

const mm7Settings = z
  .object({
    url: z.string().regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, 'must be an http:// or https:// URL'),
    vaspId: optionalText,
    vasId: optionalText,
    serviceCode: optionalText,
    username: optionalText,
    password: optionalText,
    inboundUsername: optionalText,
    inboundPassword: optionalText,
    mm7Version: z
      .string()
      .regex(/^REL-\d+-MM7-\d+-\d+$/, 'must look like REL-6-MM7-1-4')
      .default('REL-6-MM7-1-4'),
    defaultCountry: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 country code such as US')
      .default('US'),
  })
  .strict()
  .refine((s) => (s.username === undefined) === (s.password === undefined), {
    message: 'username and password go together',
    path: ['password'],
  })
  .refine((s) => (s.inboundUsername === undefined) === (s.inboundPassword === undefined), {
    message: 'inbound username and inbound password go together',
    path: ['inboundPassword'],
  });

export type Mm7ConnectorSettings = z.output<typeof mm7Settings>;

const httpUrl = z
  .string()
  .regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, 'must be an http:// or https:// URL')
  .transform((u) => u.replace(/\/+$/, ''));

/** Base64 of a raw 32-byte Ed25519 public key, the form Telnyx's portal and `GET /v2/public_key` show. */
const ed25519PublicKey = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be the base64 of a 32-byte Ed25519 public key');

const telnyxSettings = z
  .object({
    apiKey: z.string().min(1).max(512),
    publicKey: ed25519PublicKey,
    baseUrl: httpUrl.default('https://api.telnyx.com/v2'),
    messagingProfileId: optionalText,
  })
  .strict();

export type TelnyxConnectorSettings = z.output<typeof telnyxSettings>;
const bandwidthSettings = z
  .object({
    accountId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be the Bandwidth account id (7 digits)'),
    applicationId: z.string().min(1).max(128),
    clientId: z.string().min(1).max(256),
    clientSecret: z.string().min(1).max(512),
    baseUrl: httpUrl.default('https://messaging.bandwidth.com/api/v2'),
    tokenUrl: httpUrl.default('https://api.bandwidth.com/api/v1/oauth2/token'),
    callbackUsername: optionalText,
    callbackPassword: optionalText,
  })
  .strict()
  .refine((s) => (s.callbackUsername === undefined) === (s.callbackPassword === undefined), {
    message: 'callback username and callback password go together',
    path: ['callbackPassword'],
  });

export type BandwidthConnectorSettings = z.output<typeof bandwidthSettings>;
/**
 * Every connector type takes `maxPerSecond`: at most this many submits per second through it, on all
 * nodes together (messages over it wait in the queue). Absent: no limit.
 */
const maxPerSecondSetting = z.coerce
  .number({ message: 'must be a number' })
  .positive('must be more than 0')
  .max(10_000, 'must be at most 10000')
  .optional();

const SCHEMAS = {
  simulator: z.object({}).strict(),
  mm7: mm7Settings,
  telnyx: telnyxSettings,
  bandwidth: bandwidthSettings,
} as const;

export type ConnectorType = keyof typeof SCHEMAS;
export const CONNECTOR_TYPES = Object.keys(SCHEMAS) as ConnectorType[];

/** Setting names whose values are secrets. */
const SECRETS = new Set(['password', 'inboundPassword', 'apiKey', 'clientSecret', 'callbackPassword']);

export type SettingsCheck =
  | { ok: true; type: ConnectorType; settings: Record<string, unknown> }
  | { ok: false; problems: string[] };

/**
 * Checks settings for a connector type. Problems name the setting and the rule, never the value
 * (a value may be a secret).
 */
export function checkConnectorSettings(type: string, input: Record<string, unknown>): SettingsCheck {
  if (!(type in SCHEMAS)) {
    return { ok: false, problems: [`type must be one of ${CONNECTOR_TYPES.join(', ')}`] };
  }
  const { maxPerSecond, ...own } = input;
  const limit = maxPerSecondSetting.safeParse(maxPerSecond);
  const parsed = SCHEMAS[type as ConnectorType].safeParse(own);
  if (!parsed.success || !limit.success) {
    return {
      ok: false,
      problems: [
        ...(limit.success ? [] : [`maxPerSecond: ${limit.error.issues[0]?.message ?? 'invalid'}`]),
        ...(parsed.success
          ? []
          : parsed.error.issues.map((i) =>
              i.code === 'unrecognized_keys'
                ? `${type} connectors take no ${i.keys.join(', ')}`
                : `${i.path.join('.') || 'settings'}: ${i.message}`,
            )),
      ],
    };
  }
  const settings = parsed.data as Record<string, unknown>;
  if (limit.data !== undefined) settings.maxPerSecond = limit.data;
  return { ok: true, type: type as ConnectorType, settings };
}

/** Settings fit to show: each secret replaced by `<name>Set: true`. */
export function redactSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (SECRETS.has(key)) shown[`${key}Set`] = value !== undefined && value !== null && value !== '';
    else shown[key] = value;
  }
  return shown;
}
