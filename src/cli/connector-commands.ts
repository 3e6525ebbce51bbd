import type { Command } from 'commander';
import { checkConnectorSettings, redactSettings } from '../carriers/connector-settings.ts';
import { loadConfig } from '../config/config.ts';
import type { ConnectorRecord } from '../store/records.ts';
import { CliError, output, run, withStore } from './command-kit.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

interface AddOptions {
  type: string;
  url?: string;
  vaspId?: string;
  vasId?: string;
  serviceCode?: string;
  username?: string;
  password?: string;
  inboundUsername?: string;
  inboundPassword?: string;
  mm7Version?: string;
  defaultCountry?: string;
  apiKey?: string;
  publicKey?: string;
  baseUrl?: string;
  messagingProfileId?: string;
  accountId?: string;
  applicationId?: string;
  clientId?: string;
  clientSecret?: string;
  tokenUrl?: string;
  callbackUsername?: string;
  callbackPassword?: string;
  maxPerSecond?: string;
  json?: boolean;
}

/** A connector as the CLI shows it: never a secret. */
const shown = (c: ConnectorRecord) => ({
  name: c.name,
  type: c.type,
  settings: redactSettings(c.settings),
  created_at: c.created_at,
  updated_at: c.updated_at,
});

const describe = (c: ConnectorRecord) => {
  const s = redactSettings(c.settings);
  const parts = Object.entries(s).map(([k, v]) => `${k}=${String(v)}`);
  return `${c.name} (${c.type})${parts.length ? ` ${parts.join(' ')}` : ''}`;
};

/** `connectors add|list|remove` and `routes set|list`: carrier connectors and per-profile routing. */
export function registerConnectorCommands(program: Command): void {
  const connectors = program.command('connectors').description('manage carrier connectors');
  connectors
    .command('add <name>')
    .description('add a carrier connector (mm7, telnyx, bandwidth or simulator)')
    .requiredOption('--type <type>', 'mm7 | telnyx | bandwidth | simulator')
    .option('--url <url>', 'mm7: the MMSC URL SubmitReq is posted to')
    .option('--vasp-id <id>', 'mm7: VASPID')
    .option('--vas-id <id>', 'mm7: VASID')
    .option('--service-code <code>', 'mm7: ServiceCode')
    .option('--username <user>', 'mm7: HTTP Basic user for the MMSC')
    .option('--password <password>', 'mm7: HTTP Basic password for the MMSC')
    .option('--inbound-username <user>', 'mm7: the user the MMSC must send to /mm7/<name>')
    .option('--inbound-password <password>', 'mm7: the password the MMSC must send to /mm7/<name>')
    .option('--mm7-version <version>', 'mm7: REL-6-MM7-1-4 (default), REL-5-MM7-1-2, …')
    .option('--default-country <cc>', 'mm7: country of numbers without + (default US)')
    .option('--api-key <key>', 'telnyx: the upstream API key (never shown again)')
    .option('--public-key <base64>', "telnyx: the upstream's Ed25519 webhook public key")
    .option(
      '--base-url <url>',
      'telnyx, bandwidth: the API base (defaults https://api.telnyx.com/v2, https://messaging.bandwidth.com/api/v2)',
    )
    .option('--messaging-profile-id <id>', 'telnyx: messaging_profile_id sent with each message')
    .option('--account-id <id>', 'bandwidth: the account id (7 digits)')
    .option('--application-id <id>', 'bandwidth: the Messaging application of the sender numbers')
    .option('--client-id <id>', 'bandwidth: OAuth client id')
    .option('--client-secret <secret>', 'bandwidth: OAuth client secret')
    .option(
      '--token-url <url>',
      'bandwidth: OAuth token URL (default https://api.bandwidth.com/api/v1/oauth2/token)',
    )
    .option(
      '--callback-username <user>',
      'bandwidth: the user Bandwidth must send to /connectors/<name>/callbacks',
    )
    .option('--callback-password <password>', 'bandwidth: the password Bandwidth must send to the callbacks')
    .option('--max-per-second <n>', 'any type: at most n submits per second, all nodes together')
    .option('--json', 'print JSON')
    .action((name: string, opts: AddOptions) =>
      run(async () => {
        if (!NAME.test(name)) throw new CliError('name: letters, digits, - and _ (at most 64)');
        const { type, json, ...given } = opts;
        const settings = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
        const check = checkConnectorSettings(type, settings);
        if (!check.ok) throw new CliError(check.problems.join('; '));
        if (check.type === 'telnyx' && !loadConfig().publicUrl) {
          throw new CliError(
            'PUBLIC_URL is not set: a telnyx connector gives the upstream <PUBLIC_URL>/media/… and ' +
              `<PUBLIC_URL>/connectors/${name}/webhooks, so set it (as for serve) before adding one`,
          );
        }
        const now = new Date().toISOString();
        const record: ConnectorRecord = {
          name,
          type: check.type,
          settings: check.settings,
          created_at: now,
          updated_at: now,
        };
        const added = await withStore((store) => store.connectors.add(record));
        if (!added) throw new CliError(`a connector named ${name} exists already (remove it first)`);
        output(Boolean(json), { connector: shown(record) }, `added ${describe(record)}`);
      })(),
    );

  connectors
    .command('list')
    .description('list connectors (secrets are never shown)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      run(async () => {
        const list = await withStore((store) => store.connectors.list());
        output(Boolean(opts.json), { connectors: list.map(shown) }, list.map(describe).join('\n'));
      })(),
    );

  connectors
    .command('remove <name>')
    .description('remove a connector no route uses')
    .option('--json', 'print JSON')
    .action((name: string, opts: { json?: boolean }) =>
      run(async () => {
        const config = loadConfig();
        if (name === config.defaultConnector) {
          throw new CliError(`${name} is the default connector (DEFAULT_CONNECTOR)`);
        }
        await withStore((store) =>
          store.transaction(async (tx) => {
            const users = (await tx.routes.list()).filter((r) => r.connectors.includes(name));
            if (users.length > 0) {
              const profiles = users.map((r) => r.messaging_profile_id).join(', ');
              throw new CliError(`${name} is in the route of profile(s) ${profiles}`);
            }
            if (!(await tx.connectors.remove(name))) throw new CliError(`no connector named ${name}`);
          }),
        );
        output(Boolean(opts.json), { removed: name }, `removed ${name}`);
      })(),
    );

  const routes = program.command('routes').description('route messaging profiles to connectors');
  routes
    .command('set')
    .description('set the ordered connector list of a messaging profile')
    .requiredOption('--profile <id>', 'messaging profile id')
    .requiredOption('--connectors <names>', 'comma-separated connector names, in order')
    .option('--json', 'print JSON')
    .action((opts: { profile: string; connectors: string; json?: boolean }) =>
      run(async () => {
        const names = opts.connectors
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean);
        if (names.length === 0) throw new CliError('--connectors needs at least one name');
        if (new Set(names).size !== names.length) throw new CliError('--connectors names a connector twice');
        const route = {
          messaging_profile_id: opts.profile,
          connectors: names,
          updated_at: new Date().toISOString(),
        };
        await withStore((store) =>
          store.transaction(async (tx) => {
            if (!(await tx.routes.profileExists(opts.profile))) {
              throw new CliError(`no messaging profile ${opts.profile}`);
            }
            for (const n of names) {
              if (!(await tx.connectors.get(n))) throw new CliError(`no connector named ${n}`);
            }
            await tx.routes.set(route);
          }),
        );
        output(Boolean(opts.json), { route: route }, `profile ${opts.profile} → ${names.join(', ')}`);
      })(),
    );

  routes
    .command('list')
    .description('list the routes of messaging profiles (the others use DEFAULT_CONNECTOR)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      run(async () => {
        const config = loadConfig();
        const list = await withStore((store) => store.routes.list());
        output(
          Boolean(opts.json),
          { routes: list, default_connector: config.defaultConnector },
          [
            ...list.map((r) => `profile ${r.messaging_profile_id} → ${r.connectors.join(', ')}`),
            `any other profile → ${config.defaultConnector}`,
          ].join('\n'),
        );
      })(),
    );
}
