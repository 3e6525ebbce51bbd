import type { Command } from 'commander';
import { createConnectorDirectory } from '../carriers/connector-directory.ts';
import { newChaosRule } from '../chaos/chaos-engine.ts';
import {
  ChaosRuleError,
  describeChaosRule,
  parseChaosRule,
  parseCompactRule,
  renderChaosRule,
} from '../chaos/rules.ts';
import { loadConfig } from '../config/config.ts';
import { CliError, output, run, withStore } from './command-kit.ts';

interface AddOptions {
  from?: string;
  to?: string;
  profile?: string;
  probability?: string;
  count?: string;
  seed?: string;
  minMs?: string;
  maxMs?: string;
  status?: string;
  attempts?: string;
  code?: string;
  permanent?: boolean;
  gapMs?: string;
  organization?: string;
  json?: boolean;
}

const FLAG_KEYS = {
  from: 'from',
  to: 'to',
  profile: 'profile',
  probability: 'probability',
  count: 'count',
  seed: 'seed',
  minMs: 'min_ms',
  maxMs: 'max_ms',
  status: 'status',
  attempts: 'attempts',
  code: 'code',
  gapMs: 'gap_ms',
} as const;

/** `chaos add|list|clear`: chaos mode's fault rules, straight in the database every node reads. */
export function registerChaosCommands(program: Command): void {
  const chaos = program
    .command('chaos')
    .description('chaos mode: inject faults into messages the simulator carries (sandbox)');

  chaos
    .command('add <rule>')
    .description(
      'add a fault rule: a kind (webhook.duplicate|reorder|delay|fail|timeout, carrier.submit_fail|' +
        'report_delay|report_duplicate|report_drop|report_reorder, api.reject) with options, or the ' +
        'compact form kind:key=value,…',
    )
    .option('--from <e164>', 'only messages from this number')
    .option('--to <e164>', 'only this recipient')
    .option('--profile <id>', 'only messages of this messaging profile')
    .option('--probability <p>', 'chance per occurrence, 0..1, drawn from the seed (default 1)')
    .option('--count <n>', 'the next N occurrences only')
    .option('--seed <seed>', 'seed of the draws (default CHAOS_SEED)')
    .option('--min-ms <ms>', 'delays: shortest')
    .option('--max-ms <ms>', 'delays: longest')
    .option('--status <code>', 'webhook.fail: HTTP status (default 503); api.reject: 429 or 503')
    .option('--attempts <n>', 'webhook.fail by probability: first attempts that fail (default 1)')
    .option('--code <code>', 'carrier.submit_fail: Telnyx error code (default 40006, or 40008 permanent)')
    .option('--permanent', 'carrier.submit_fail: not retryable')
    .option('--gap-ms <ms>', 'carrier.report_reorder: spacing of the reversed reports (default 50)')
    .option('--organization <id>', 'only this organization (default: every organization)')
    .option('--json', 'print JSON')
    .action((rule: string, opts: AddOptions) =>
      run(async () => {
        const config = loadConfig();
        const raw: Record<string, unknown> = {};
        try {
          Object.assign(raw, parseCompactRule(rule));
        } catch (err) {
          throw new CliError((err as Error).message);
        }
        for (const [flag, key] of Object.entries(FLAG_KEYS)) {
          const value = opts[flag as keyof typeof FLAG_KEYS];
          if (value !== undefined) raw[key] = value;
        }
        if (opts.permanent) raw.retryable = false;
        let input: ReturnType<typeof parseChaosRule>;
        try {
          input = parseChaosRule(raw);
        } catch (err) {
          if (err instanceof ChaosRuleError) throw new CliError(err.message);
          throw err;
        }
        const added = await withStore(async (store) => {
          const profile = input.match.profile;
          if (profile !== undefined) {
            const directory = createConnectorDirectory(store, {
              defaultConnector: config.defaultConnector,
              cacheMs: 0,
            });
            const [first] = await directory.route(profile);
            const type = first === undefined ? undefined : (await directory.get(first))?.type;
            if (type !== 'simulator') {
              throw new CliError(
                `chaos is refused for profile ${profile}: its connector (${first}) is not the simulator`,
              );
            }
          }
          const record = newChaosRule(
            input,
            { organizationId: opts.organization ?? null, source: 'cli' },
            config.chaos.seed,
          );
          await store.chaos.insertRule(record);
          return record;
        });
        output(Boolean(opts.json), { rule: renderChaosRule(added) }, `added ${describeChaosRule(added)}`);
      })(),
    );

  chaos
    .command('list')
    .description('list fault rules (with what counted rules have left)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      run(async () => {
        const rules = await withStore((store) => store.chaos.listRules());
        output(
          Boolean(opts.json),
          { rules: rules.map(renderChaosRule) },
          rules.length === 0 ? 'no chaos rules' : rules.map(describeChaosRule).join('\n'),
        );
      })(),
    );

  chaos
    .command('clear')
    .description('remove every fault rule (or one, with --id)')
    .option('--id <id>', 'only this rule')
    .option('--json', 'print JSON')
    .action((opts: { id?: string; json?: boolean }) =>
      run(async () => {
        const deleted = await withStore(async (store) => {
          if (opts.id === undefined) return store.chaos.clearRules();
          if (!(await store.chaos.deleteRule(opts.id))) throw new CliError(`no chaos rule ${opts.id}`);
          return 1;
        });
        output(Boolean(opts.json), { deleted }, `removed ${deleted} chaos rule(s)`);
      })(),
    );
}
