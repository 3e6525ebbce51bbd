import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../store/private-files.ts';

export interface MediaStore {
  /** Stores the bytes under their sha256 and returns the file path. Idempotent. */
  put(bytes: Buffer, sha256: string): Promise<string>;
  read(sha256: string): Promise<Buffer>;
  has(sha256: string): Promise<boolean>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Content-addressed files under `dir/<first two hex chars>/<sha256>`. */
export function createFileMediaStore(dir: string): MediaStore {
  const pathOf = (sha256: string): string => {
    // Also what keeps a caller-supplied key from escaping `dir`.
    if (!SHA256_HEX.test(sha256)) {
      throw new Error(`Invalid media key ${JSON.stringify(sha256)}: expected sha256 hex`);
    }
    return join(dir, sha256.slice(0, 2), sha256);
  };

  const has = async (sha256: string): Promise<boolean> => {
    try {
      await access(pathOf(sha256));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  };

  return {
    has,

    async put(bytes, sha256) {
      const path = pathOf(sha256);
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== sha256) throw new Error(`Media bytes hash to ${actual}, not ${sha256}`);
      if (await has(sha256)) return path;
      await mkdir(join(dir, sha256.slice(0, 2)), { recursive: true, mode: PRIVATE_DIR_MODE });
      // Write-then-rename so readers never see a partial file; fsync so a crash cannot leave an empty one.
      const tmp = `${path}.${randomUUID()}.tmp`;
      try {
        const file = await open(tmp, 'wx', PRIVATE_FILE_MODE);
        try {
          await file.writeFile(bytes);
          await file.sync();
        } finally {
          await file.close();
        }
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return path;
    },

    async read(sha256) {
      return readFile(pathOf(sha256));
    },
  };
}
