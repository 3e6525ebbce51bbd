import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../config/config.ts';
import { parseE164 } from '../numbers/e164.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { issueApiKey } from '../tenants/api-keys.ts';
import { createOrganization } from '../tenants/organizations.ts';
import { ensureSigningKey } from '../webhooks/signing-key-store.ts';

export class CliError extends Error {}

export async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function output(json: boolean, data: Record<string, unknown>, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
}

export function run(action: () => Promise<void>) {
  return () =>
    action().catch((err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}

/** Operator commands that change tenants directly in the database. */
export function registerAdminCommands(program: Command): void {
  const orgs = program.command('orgs').description('manage organizations');
  orgs
    .command('create <name>')
    .description('create an organization and print its id and a new API key (shown once)')
    .option('--json', 'print JSON')
    .action((name: string, opts: { json?: boolean }) =>
      run(async () => {
        const { organizationId, apiKey } = await withStore((store) => createOrganization(store, name));
        output(
          Boolean(opts.json),
          { organization_id: organizationId, api_key: apiKey },
          `organization ${organizationId}\napi key ${apiKey}`,
        );
      })(),
    );

  const keys = program.command('keys').description('manage API keys');
  keys
    .command('create')
    .requiredOption('--org <id>', 'organization id')
    .option('--json', 'print JSON')
    .action((opts: { org: string; json?: boolean }) =>
      run(async () => {
        const apiKey = await withStore(async (store) => {
          if (!(await store.organizations.get(opts.org))) throw new CliError(`no organization ${opts.org}`);
          return issueApiKey(store, opts.org);
        });
        output(Boolean(opts.json), { organization_id: opts.org, api_key: apiKey }, apiKey);
      })(),
    );

  const numbers = program.command('numbers').description('manage phone numbers');
  numbers
    .command('add <numbers...>')
    .requiredOption('--org <id>', 'organization id')
    .option('--profile <id>', 'messaging profile to attach the numbers to')
    .option('--json', 'print JSON')
    .action((phoneNumbers: string[], opts: { org: string; profile?: string; json?: boolean }) =>
      run(async () => {
        const bad = phoneNumbers.filter((n) => !parseE164(n));
        if (bad.length > 0) throw new CliError(`not +E.164: ${bad.join(', ')}`);
        const added = await withStore((store) =>
          store.transaction(async (tx) => {
            if (!(await tx.organizations.get(opts.org))) throw new CliError(`no organization ${opts.org}`);
            if (opts.profile && !(await tx.profiles.get(opts.org, opts.profile))) {
              throw new CliError(`no messaging profile ${opts.profile} in organization ${opts.org}`);
            }
            const now = new Date().toISOString();
            const rows = [];
            for (const phone of phoneNumbers) {
              const row = {
                id: randomUUID(),
                organization_id: opts.org,
                phone_number: phone,
                messaging_profile_id: opts.profile ?? null,
                tags: [],
                created_at: now,
                updated_at: now,
              };
              if (!(await tx.numbers.add(row))) throw new CliError(`${phone} is already registered`);
              rows.push({ id: row.id, phone_number: phone, messaging_profile_id: row.messaging_profile_id });
            }
            return rows;
          }),
        );
        output(
          Boolean(opts.json),
          { numbers: added },
          added.map((n) => `${n.phone_number} ${n.id}`).join('\n'),
        );
      })(),
    );

  program
    .command('public-key')
    .description('print the base64 Ed25519 public key that webhooks are signed with')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      run(async () => {
        const key = await withStore(ensureSigningKey);
        output(Boolean(opts.json), { public_key: key.publicKey }, key.publicKey);
      })(),
    );
}
