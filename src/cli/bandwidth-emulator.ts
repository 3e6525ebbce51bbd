import type { Command } from 'commander';
import { startBandwidthEmulator } from '../bandwidth-emulator/emulator.ts';

interface Options {
  port: string;
  host: string;
  accountId: string;
  applicationId: string;
  clientId: string;
  clientSecret: string;
  callbackUrl?: string;
  callbackUsername?: string;
  callbackPassword?: string;
  json?: boolean;
}

/** `bandwidth-emulator`: Bandwidth's v2 Messaging API to try the Bandwidth connector without an account. */
export function registerBandwidthEmulator(program: Command): void {
  program
    .command('bandwidth-emulator')
    .description(
      'run a Bandwidth v2 Messaging emulator: OAuth token, POST /users/{accountId}/messages, callbacks back to the gateway',
    )
    .option('--port <port>', 'port to listen on', '3200')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--account-id <id>', 'the account id it answers for', '9900000')
    .option('--application-id <id>', 'the Messaging application id', 'emulated-application')
    .option('--client-id <id>', 'OAuth client id it accepts', 'emulator-client')
    .requiredOption('--client-secret <secret>', 'OAuth client secret it accepts')
    .option(
      '--callback-url <url>',
      "the application's callback URL: http://<gateway>/connectors/<name>/callbacks",
    )
    .option(
      '--callback-username <user>',
      'Basic user sent after the challenge (the connector --callback-username)',
    )
    .option('--callback-password <password>', 'Basic password sent after the challenge')
    .option('--json', 'print JSON')
    .action(async (opts: Options) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--port must be a port number, not ${opts.port}`);
      const emulator = await startBandwidthEmulator({
        port,
        host: opts.host,
        accountId: opts.accountId,
        applicationId: opts.applicationId,
        clientId: opts.clientId,
        clientSecret: opts.clientSecret,
        callbackUrl: opts.callbackUrl,
        callbackUsername: opts.callbackUsername,
        callbackPassword: opts.callbackPassword,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      const control = `${emulator.url}/control`;
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ base_url: emulator.baseUrl, token_url: emulator.tokenUrl, control_url: control })}\n`
          : `Bandwidth emulator: give the connector --base-url ${emulator.baseUrl} --token-url ${emulator.tokenUrl}\n` +
              `control API: ${control}/submits, /callbacks, /tokens, /outcomes, /answers, /inbound, /application\n`,
      );
      const stop = () => void emulator.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
