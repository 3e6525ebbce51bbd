import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/** JSON logs, or readable ones when stdout is a terminal (a person is watching, not a collector). */
export function createLogger(level: string, opts: { pretty?: boolean } = {}): Logger {
  const options = { level, base: { service: 'mms-gateway' } };
  if (!(opts.pretty ?? process.stdout.isTTY === true)) return pino(options);
  return pino(
    options,
    pretty({ sync: true, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' }),
  );
}
