import { randomUUID } from 'node:crypto';
import { defaultProfileData } from '../profiles/defaults.ts';
import type { Store } from '../store/store.ts';
import { createFirstSigningKey } from '../webhooks/organization-signing-keys.ts';
import { issueApiKey } from './api-keys.ts';

export const SANDBOX_NUMBERS = ['+13125550001', '+13125550002', '+13125550003'];

export interface SandboxInfo {
  organizationId: string;
  profileId: string;
  numbers: string[];
  apiKey: string;
}

/**
 * On an empty database, creates a ready sandbox: an organization, a messaging profile allowed to
 * send anywhere, a few sender numbers, and an API key (returned once; only its hash is stored).
 * Returns null when the database already has an organization.
 */
export async function bootstrapSandbox(store: Store): Promise<SandboxInfo | null> {
  return store.transaction(async (tx) => {
    // Several nodes may start together on one empty database: only the first makes the sandbox.
    await tx.organizations.lockFirstStart();
    if ((await tx.organizations.count()) > 0) return null;
    const now = new Date().toISOString();
    const organizationId = randomUUID();
    const profileId = randomUUID();
    await tx.organizations.create({ id: organizationId, name: 'Sandbox', created_at: now });
    await createFirstSigningKey(tx, organizationId);
    await tx.profiles.create({
      id: profileId,
      organization_id: organizationId,
      data: defaultProfileData('Sandbox profile', ['*']),
      created_at: now,
      updated_at: now,
    });
    for (const phone of SANDBOX_NUMBERS) {
      await tx.numbers.add({
        id: randomUUID(),
        organization_id: organizationId,
        phone_number: phone,
        messaging_profile_id: profileId,
        tags: [],
        created_at: now,
        updated_at: now,
      });
    }
    const apiKey = await issueApiKey(tx, organizationId);
    return { organizationId, profileId, numbers: SANDBOX_NUMBERS, apiKey };
  });
}

/** Recipients the carrier simulator delivers (no magic failure number), for the banner's curl line. */
export const SANDBOX_TRY_RECIPIENTS = ['+13125550100', '+13125550110'];

export interface BannerOptions {
  /** The dashboard's address, when this gateway serves one. */
  dashboardUrl?: string | null;
}

/**
 * The start-up banner for a person at a terminal: plain lines, printed to stdout whatever the log
 * level and never into the log stream. The curl line pastes as is (one line, no escapes).
 */
export function sandboxBanner(info: SandboxInfo, baseUrl: string, opts: BannerOptions = {}): string {
  const body = JSON.stringify({
    from: info.numbers[0],
    to: SANDBOX_TRY_RECIPIENTS,
    text: 'Hello from mms-gateway',
  });
  return [
    'Sandbox ready. The API key is shown once; keep it.',
    `  Organization:   ${info.organizationId}`,
    `  API key:        ${info.apiKey}`,
    `  Sender numbers: ${info.numbers.join(', ')}`,
    `  Profile:        ${info.profileId}`,
    ...(opts.dashboardUrl ? [`  Dashboard:      ${opts.dashboardUrl}`] : []),
    '  Webhooks and media may go to loopback addresses (sandbox; SANDBOX=false for the strict guard).',
    '',
    'Try it:',
    `export KEY=${info.apiKey}`,
    `curl -s ${baseUrl}/v2/messages/group_mms -H 'Authorization: Bearer ${info.apiKey}' -H 'Content-Type: application/json' -d '${body}'`,
    '',
  ].join('\n');
}
