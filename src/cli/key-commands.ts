import type { Command } from 'commander';
import { rotateSigningKey } from '../webhooks/organization-signing-keys.ts';
import { CliError, output, run, withStore } from './command-kit.ts';

/** `keys list`, `keys revoke`, `keys rotate-signing`: the lifecycle of API keys and signing keys. */
export function registerKeyLifecycleCommands(keys: Command): void {
  keys
    .command('list')
    .description(
      "list an organization's API keys: id, prefix, created, last used, revoked (never the secret)",
    )
    .requiredOption('--org <id>', 'organization id')
    .option('--json', 'print JSON')
    .action((opts: { org: string; json?: boolean }) =>
      run(async () => {
        const list = await withStore(async (store) => {
          if (!(await store.organizations.get(opts.org))) throw new CliError(`no organization ${opts.org}`);
          return store.apiKeys.listForOrganization(opts.org);
        });
        const rows = list.map((k) => ({
          id: k.id,
          prefix: k.prefix ? `${k.prefix}…` : null,
          created_at: k.created_at,
          last_used_at: k.last_used_at,
          revoked_at: k.revoked_at,
        }));
        const human = rows.map(
          (k) =>
            `${k.id}  ${k.prefix ?? '(no prefix)'}  created ${k.created_at}  last used ${k.last_used_at ?? 'never'}${k.revoked_at ? `  REVOKED ${k.revoked_at}` : ''}`,
        );
        output(Boolean(opts.json), { organization_id: opts.org, keys: rows }, human.join('\n') || 'no keys');
      })(),
    );

  keys
    .command('revoke <keyId>')
    .description('revoke an API key; every node refuses it within API_KEY_CACHE_TTL_MS')
    .option('--json', 'print JSON')
    .action((keyId: string, opts: { json?: boolean }) =>
      run(async () => {
        const key = await withStore(async (store) => {
          const found = await store.apiKeys.get(keyId);
          if (!found) throw new CliError(`no API key ${keyId}`);
          if (found.revoked_at) throw new CliError(`API key ${keyId} was revoked at ${found.revoked_at}`);
          const at = new Date().toISOString();
          await store.apiKeys.revoke(keyId, at);
          return { ...found, revoked_at: at };
        });
        output(
          Boolean(opts.json),
          { id: key.id, organization_id: key.organization_id, revoked_at: key.revoked_at },
          `revoked ${key.id} (organization ${key.organization_id})`,
        );
      })(),
    );

  keys
    .command('rotate-signing')
    .description(
      "rotate an organization's webhook signing key: the new key is published at once and signs after the overlap",
    )
    .requiredOption('--org <id>', 'organization id')
    .option(
      '--overlap-hours <hours>',
      'hours both keys are published before the switch (0: switch now)',
      '24',
    )
    .option('--json', 'print JSON')
    .action((opts: { org: string; overlapHours: string; json?: boolean }) =>
      run(async () => {
        const hours = Number(opts.overlapHours);
        if (!Number.isFinite(hours) || hours < 0 || hours > 24 * 365) {
          throw new CliError(`--overlap-hours must be a number of hours from 0, not ${opts.overlapHours}`);
        }
        const next = await withStore(async (store) => {
          if (!(await store.organizations.get(opts.org))) throw new CliError(`no organization ${opts.org}`);
          return rotateSigningKey(store, opts.org, Math.round(hours * 3_600_000));
        });
        output(
          Boolean(opts.json),
          { organization_id: opts.org, ...next },
          `new signing key ${next.public_key}\nsigns from ${next.active_from}; the previous key signs until then`,
        );
      })(),
    );
}
