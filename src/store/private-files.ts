import fs from 'node:fs';

/**
 * The gateway's files hold tenants' messages, API key hashes and the webhook signing key: only the
 * user running the gateway may read them, whatever the umask. Folders are 0700, files 0600.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** S_ISVTX, which Node's fs.constants does not name. */
const STICKY_BIT = 0o1000;

/**
 * Creates `dir` (and its parents) private, or makes an existing one private. Returns the mode it had
 * when others could read or enter it (so the caller can warn), null otherwise.
 *
 * A folder with the sticky bit is shared by design (`/tmp`): making it 0700 would lock every other
 * user and service out of it. It is left as it is (the files made in it are 0600 all the same).
 */
export function ensurePrivateDir(dir: string): number | null {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const mode = fs.statSync(dir).mode;
  if ((mode & 0o077) === 0 || (mode & STICKY_BIT) !== 0) return null;
  fs.chmodSync(dir, PRIVATE_DIR_MODE);
  return mode & 0o777;
}

/**
 * Creates `file` empty and 0600 if it does not exist, and makes an existing one 0600. SQLite gives
 * its -wal and -shm files the mode of the database file, so this covers them too.
 */
export function ensurePrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE_MODE));
  fs.chmodSync(file, PRIVATE_FILE_MODE);
}

/** 0600 for each of `files` that exists (left behind by an older version, say). */
export function tightenExistingFiles(files: readonly string[]): void {
  for (const file of files) {
    try {
      fs.chmodSync(file, PRIVATE_FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
