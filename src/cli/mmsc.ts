import type { Command } from 'commander';
import { startMmscEmulator } from '../mmsc/emulator.ts';

interface MmscOptions {
  port: string;
  host: string;
  gatewayUrl?: string;
  gatewayUsername?: string;
  gatewayPassword?: string;
  username?: string;
  password?: string;
  json?: boolean;
}

/** `mmsc`: an MMSC emulator to try MM7 without a carrier (src/mmsc/emulator.ts). */
export function registerMmsc(program: Command): void {
  program
    .command('mmsc')
    .description(
      'run an MMSC emulator: takes MM7 SubmitReq, posts DeliveryReportReq back, sends DeliverReq on request',
    )
    .option('--port <port>', 'port to listen on', '3100')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--gateway-url <url>',
      "the gateway's MM7 receiver, e.g. http://127.0.0.1:3000/mm7/<connector name>",
    )
    .option('--gateway-username <user>', 'Basic auth user for posts to the gateway (its inbound credentials)')
    .option('--gateway-password <password>', 'Basic auth password for posts to the gateway')
    .option('--username <user>', 'Basic auth user required on SubmitReq')
    .option('--password <password>', 'Basic auth password required on SubmitReq')
    .option('--json', 'print JSON')
    .action(async (opts: MmscOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--port must be a port number, not ${opts.port}`);
      const emulator = await startMmscEmulator({
        port,
        host: opts.host,
        gatewayUrl: opts.gatewayUrl,
        gatewayUsername: opts.gatewayUsername,
        gatewayPassword: opts.gatewayPassword,
        username: opts.username,
        password: opts.password,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      const control = emulator.url.replace(/\/mm7$/, '/control');
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ url: emulator.url, control_url: control, gateway_url: opts.gatewayUrl ?? null })}\n`
          : `MMSC emulator: give the connector --url ${emulator.url}\ncontrol API: ${control}/submissions, /faults, /reports, /deliver\n`,
      );
      const stop = () => void emulator.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
