import type { Command } from 'commander';
import { loadConfig } from '../config/config.ts';
import { startGateway } from '../gateway.ts';
import { sandboxBanner } from '../tenants/bootstrap.ts';
import { createLogger } from './logger.ts';

export function registerServe(program: Command): void {
  program
    .command('serve', { isDefault: true })
    .description('run the gateway (API and workers, per ROLES)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.logLevel);
      const gateway = await startGateway(config, logger);
      if (gateway.sandbox && gateway.url) {
        const dashboard = gateway.app?.hasRoute({ method: 'GET', url: '/dashboard' });
        const banner = sandboxBanner(gateway.sandbox, gateway.url, {
          dashboardUrl: dashboard ? `${gateway.url}/dashboard` : null,
        });
        process.stdout.write(`\n${banner}\n`);
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        gateway.close().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
