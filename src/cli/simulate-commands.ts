import type { Command } from 'commander';
import { output, run } from './command-kit.ts';
import { apiOptions, apiRequest } from './message-commands.ts';

interface InboundData {
  id: string;
  from: { phone_number: string };
  to: Array<{ phone_number: string }>;
  cc: Array<{ phone_number: string }>;
  text: string | null;
  media: Array<{ url: string; content_type: string | null }>;
}

interface ReplyOptions {
  url?: string;
  key?: string;
  from: string;
  to: string;
  cc?: string[];
  text?: string;
  mediaUrl?: string[];
  json?: boolean;
}

/** `simulate …`: simulated handsets talking to a running sandbox gateway (its /v2/simulator/ routes). */
export function registerSimulateCommands(program: Command): void {
  const simulate = program
    .command('simulate')
    .description('simulated handsets sending to the gateway (sandbox)');
  apiOptions(
    simulate
      .command('reply')
      .description(
        'a simulated handset sends a message to one of your numbers, as a reply to a group (--cc the others) or on its own',
      )
      .requiredOption('--from <+E164>', 'the simulated handset')
      .requiredOption('--to <+E164>', 'your number that receives it')
      .option('--cc <+E164...>', 'the other members of the group')
      .option('--text <text>', 'message text')
      .option('--media-url <url...>', 'media URLs (fetched as a send fetches them)')
      .option('--json', 'print JSON'),
  ).action(
    run(async (opts: ReplyOptions) => {
      const answer = await apiRequest(opts)('POST', '/v2/simulator/messages', {
        from: opts.from,
        to: opts.to,
        ...(opts.cc?.length ? { cc: opts.cc } : {}),
        ...(opts.text !== undefined ? { text: opts.text } : {}),
        ...(opts.mediaUrl?.length ? { media_urls: opts.mediaUrl } : {}),
      });
      const m = answer.data as InboundData;
      const cc = m.cc.map((c) => c.phone_number).join(', ');
      output(
        Boolean(opts.json),
        m,
        [
          m.id,
          `${m.from.phone_number} -> ${m.to.map((t) => t.phone_number).join(', ')}${cc ? ` (cc ${cc})` : ''}`,
          ...(m.text ? [m.text] : []),
          ...m.media.map((x) => `${x.content_type ?? '?'} ${x.url}`),
        ].join('\n'),
      );
    }),
  );
}
