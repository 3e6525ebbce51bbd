import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { parseE164 } from '../numbers/e164.ts';
import { issueApiKey } from '../tenants/api-keys.ts';
import { createOrganization } from '../tenants/organizations.ts';
import { publishedSigningKeys } from '../webhooks/organization-signing-keys.ts';
import { CliError, output, run, table, withStore } from './command-kit.ts';
import { registerKeyLifecycleCommands } from './key-commands.ts';

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

  orgs
    .command('list')
    .description('list organizations')
    .option('--json', 'print JSON')
    .action(
      run(async (opts: { json?: boolean }) => {
        const list = await withStore((store) => store.organizations.list());
        output(
          Boolean(opts.json),
          { organizations: list },
          table(list.map((o) => [o.id, o.name, o.created_at])),
        );
      }),
    );

  const keys = program.command('keys').description('manage API keys');
  keys
    .command('create')
    .description('issue another API key for an organization (shown once)')
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
  registerKeyLifecycleCommands(keys);

  const numbers = program.command('numbers').description('manage phone numbers');
  numbers
    .command('add <numbers...>')
    .description('register sender numbers for an organization, optionally attached to a messaging profile')
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

  numbers
    .command('list')
    .description("list an organization's numbers and their messaging profiles")
    .requiredOption('--org <id>', 'organization id')
    .option('--json', 'print JSON')
    .action(
      run(async (opts: { org: string; json?: boolean }) => {
        const list = await withStore(
          async (store) =>
            (await store.numbers.listForOrganization(opts.org, { number: 1, size: 1_000_000 })).items,
        );
        const rows = list.map((n) => ({
          id: n.id,
          phone_number: n.phone_number,
          messaging_profile_id: n.messaging_profile_id,
        }));
        output(
          Boolean(opts.json),
          { numbers: rows },
          table(rows.map((n) => [n.phone_number, n.id, n.messaging_profile_id])),
        );
      }),
    );

  program
    .command('public-key')
    .description("print the base64 Ed25519 public key that an organization's webhooks are signed with")
    .requiredOption('--org <id>', 'organization id')
    .option('--json', 'print JSON')
    .action((opts: { org: string; json?: boolean }) =>
      run(async () => {
        const keys = await withStore(async (store) => {
          if (!(await store.organizations.get(opts.org))) throw new CliError(`no organization ${opts.org}`);
          return publishedSigningKeys(store, opts.org);
        });
        output(Boolean(opts.json), keys, keys.public_key);
      })(),
    );
}
