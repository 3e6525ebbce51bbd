import fs from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from '../config/config.ts';
import { registerAdminCommands } from './admin-commands.ts';
import { registerBandwidthEmulator } from './bandwidth-emulator.ts';
import { registerChaosCommands } from './chaos-commands.ts';
import { registerConnectorCommands } from './connector-commands.ts';
import { registerLimitCommands } from './limit-commands.ts';
import { registerMessageCommands } from './message-commands.ts';
import { registerMmsc } from './mmsc.ts';
import { registerProfileCommands } from './profiles-commands.ts';
import { registerServe } from './serve.ts';
import { registerSimulateCommands } from './simulate-commands.ts';
import { registerTail } from './tail-command.ts';

// src/cli/main.ts and dist/cli/main.js are both two levels below package.json.
const { version } = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('mms-gateway')
  .description('Self-hostable group MMS gateway speaking Telnyx v2')
  .version(version);
// One line per command group.
registerServe(program);
registerAdminCommands(program);
registerProfileCommands(program);
registerMessageCommands(program);
registerTail(program);
registerConnectorCommands(program);
registerLimitCommands(program);
registerMmsc(program);
registerSimulateCommands(program);
registerBandwidthEmulator(program);
registerChaosCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
