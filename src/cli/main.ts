import { Command } from 'commander';
import { ConfigError } from '../config/config.ts';
import { registerAdminCommands } from './admin-commands.ts';
import { registerConnectorCommands } from './connector-commands.ts';
import { registerMmsc } from './mmsc.ts';
import { registerServe } from './serve.ts';

const program = new Command('mms-gateway').description('Self-hostable group MMS gateway speaking Telnyx v2');
registerServe(program);
registerAdminCommands(program);
registerConnectorCommands(program);
registerMmsc(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
