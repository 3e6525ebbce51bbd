import type { Command } from 'commander';
import { parseE164 } from '../numbers/e164.ts';
import { CliError, output, run, withStore } from './command-kit.ts';

interface SubjectOptions {
  number?: string;
  profile?: string;
  json?: boolean;
}

/** `number:+E164` or `profile:<id>`, checked against what exists. */
async function subjectOf(opts: SubjectOptions): Promise<string> {
  if ((opts.number === undefined) === (opts.profile === undefined)) {
    throw new CliError('give exactly one of --number and --profile');
  }
  if (opts.number !== undefined) {
    if (!parseE164(opts.number)) throw new CliError('--number must be an E.164 number such as +13125550100');
    return `number:${opts.number}`;
  }
  const profile = opts.profile!;
  const exists = await withStore((store) => store.routes.profileExists(profile));
  if (!exists) throw new CliError(`no messaging profile ${profile}`);
  return `profile:${profile}`;
}

/**
 * `limits set|clear|list`: messages per second per sender number, set by the operator for one
 * number or for every number of a messaging profile (the number's own setting wins). Carriers hold
 * numbers to such rates (US long codes: about 1 per second); messages over it wait in the queue.
 */
export function registerLimitCommands(program: Command): void {
  const limits = program.command('limits').description('throughput limits of sender numbers');
  limits
    .command('set')
    .description('set the messages per second of a sender number, or of every number of a profile')
    .option('--number <e164>', 'one sender number')
    .option('--profile <id>', 'every sender number of this messaging profile')
    .requiredOption('--per-second <n>', 'messages per second (decimals allowed, e.g. 0.5)')
    .option('--json', 'print JSON')
    .action((opts: SubjectOptions & { perSecond: string }) =>
      run(async () => {
        const perSecond = Number(opts.perSecond);
        if (!(perSecond > 0 && perSecond <= 10_000)) {
          throw new CliError('--per-second must be a number above 0 and at most 10000');
        }
        const subject = await subjectOf(opts);
        const at = new Date().toISOString();
        await withStore((store) => store.throughput.setSenderLimit(subject, perSecond, at));
        output(
          Boolean(opts.json),
          { limit: { subject, max_per_second: perSecond, updated_at: at } },
          `${subject} → ${perSecond} per second`,
        );
      })(),
    );

  limits
    .command('clear')
    .description('remove the limit of a sender number or of a profile')
    .option('--number <e164>', 'one sender number')
    .option('--profile <id>', 'a messaging profile')
    .option('--json', 'print JSON')
    .action((opts: SubjectOptions) =>
      run(async () => {
        const subject = await subjectOf(opts);
        await withStore((store) => store.throughput.setSenderLimit(subject, null, new Date().toISOString()));
        output(Boolean(opts.json), { cleared: subject }, `${subject}: no limit`);
      })(),
    );

  limits
    .command('list')
    .description('list sender limits')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      run(async () => {
        const list = await withStore((store) => store.throughput.listSenderLimits());
        output(
          Boolean(opts.json),
          { limits: list },
          list.map((l) => `${l.subject} → ${l.max_per_second} per second`).join('\n') || 'no limits',
        );
      })(),
    );
}
