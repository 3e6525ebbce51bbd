import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { defaultProfileData, normaliseProfileData } from '../profiles/defaults.ts';
import { createProfileSchema } from '../profiles/profile-schema.ts';
import type { ProfileData } from '../store/records.ts';
import { CliError, output, run, table, withStore } from './command-kit.ts';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Messaging profiles, written straight to the store (the API does the same per organization). */
export function registerProfileCommands(program: Command): void {
  const profiles = program.command('profiles').description('manage messaging profiles');
  profiles
    .command('create')
    .description('create a messaging profile, so the organization can send from numbers attached to it')
    .requiredOption('--org <id>', 'organization id')
    .requiredOption('--name <name>', 'profile name')
    .option('--whitelist <countries>', 'comma-separated destination countries (ISO codes) or *', '*')
    .option('--webhook-url <url>', 'where webhooks of messages sent with this profile go')
    .option('--json', 'print JSON')
    .action(
      run(
        async (opts: {
          org: string;
          name: string;
          whitelist: string;
          webhookUrl?: string;
          json?: boolean;
        }) => {
          const parsed = createProfileSchema.safeParse({
            name: opts.name,
            whitelisted_destinations: list(opts.whitelist),
            ...(opts.webhookUrl ? { webhook_url: opts.webhookUrl } : {}),
          });
          if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => i.message).join('; '));
          const body = parsed.data;
          const now = new Date().toISOString();
          const profile = {
            id: randomUUID(),
            organization_id: opts.org,
            data: normaliseProfileData({
              ...defaultProfileData(body.name, body.whitelisted_destinations),
              ...body,
            } as ProfileData),
            created_at: now,
            updated_at: now,
          };
          await withStore(async (store) => {
            if (!(await store.organizations.get(opts.org))) throw new CliError(`no organization ${opts.org}`);
            await store.profiles.create(profile);
          });
          output(Boolean(opts.json), { id: profile.id, name: profile.data.name }, profile.id);
        },
      ),
    );
  profiles
    .command('list')
    .description("list an organization's messaging profiles")
    .requiredOption('--org <id>', 'organization id')
    .option('--json', 'print JSON')
    .action(
      run(async (opts: { org: string; json?: boolean }) => {
        const items = await withStore(async (store) => {
          const all = [];
          for (let number = 1; ; number++) {
            const page = await store.profiles.list(opts.org, { number, size: 250 });
            all.push(...page.items);
            if (all.length >= page.total || page.items.length === 0) return all;
          }
        });
        const rows = items.map((p) => ({
          id: p.id,
          name: p.data.name,
          whitelisted_destinations: p.data.whitelisted_destinations,
          created_at: p.created_at,
        }));
        output(
          Boolean(opts.json),
          { profiles: rows },
          table(rows.map((p) => [p.id, p.name, p.whitelisted_destinations.join(','), p.created_at])),
        );
      }),
    );
}
