import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { makeTempDir, type SpawnedGateway, spawnGateway, TEST_STORE } from '../support/gateway.ts';
import { PIPELINE_ENV } from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Issue 14: the database, its WAL and the media were created 0644 in a 0755 folder, so any local
 * user could read the webhook signing key out of the WAL. Here a real `serve` starts under umask 022
 * on a data folder that is already world-readable, stores a message with media, and every file is
 * checked with stat.
 */

const mode = (file: string) => fs.statSync(file).mode & 0o777;
const octal = (m: number) => m.toString(8).padStart(4, '0');

let gateway: SpawnedGateway | undefined;
let media: http.Server | undefined;
const dataDir = makeTempDir();

after(async () => {
  gateway?.kill('SIGKILL');
  if (gateway) await gateway.exited;
  await new Promise<void>((resolve) => (media ? media.close(() => resolve()) : resolve()));
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('under umask 022 the data folder is 0700 and the database, WAL and media 0600', async () => {
  // The child inherits this umask: what a careless service unit or shell would give it.
  const previous = process.umask(0o022);
  fs.chmodSync(dataDir, 0o755);

  media = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(Buffer.from('not really a png, but declared as one'));
  });
  await new Promise<void>((resolve) => media!.listen(0, '127.0.0.1', resolve));
  const mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}/pic.png`;

  try {
    gateway = await spawnGateway({ dataDir, env: { ...PIPELINE_ENV } });
  } finally {
    process.umask(previous);
  }
  assert.match(gateway.stdout(), /data folder was readable by other users; made it private/);
  assert.equal(octal(mode(dataDir)), '0700');

  const res = await fetch(`${gateway.url}/v2/messages/group_mms`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gateway.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: '+13125550001', to: ['+13125550100'], text: 'hi', media_urls: [mediaUrl] }),
  });
  assert.equal(res.status, 200, await res.clone().text());

  const mediaDir = path.join(dataDir, 'media');
  const stored = await waitFor(
    () => {
      const files = fs.existsSync(mediaDir)
        ? fs.readdirSync(mediaDir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(mediaDir, f))
        : [];
      const file = files.find((f) => /[0-9a-f]{64}$/.test(f));
      return file ? { file, dirs: files.filter((f) => fs.statSync(f).isDirectory()) } : undefined;
    },
    { description: 'the media file is stored' },
  );
  assert.equal(octal(mode(stored.file)), '0600', stored.file);
  assert.equal(octal(mode(mediaDir)), '0700');
  for (const dir of stored.dirs) assert.equal(octal(mode(dir)), '0700', dir);

  if (TEST_STORE === 'sqlite') {
    const db = path.join(dataDir, 'gateway.sqlite');
    for (const file of [db, `${db}-wal`, `${db}-shm`]) {
      assert.ok(fs.existsSync(file), `${file} exists`);
      assert.equal(octal(mode(file)), '0600', file);
    }
  }
  // Nothing anywhere under the data folder is readable by group or others.
  for (const entry of fs.readdirSync(dataDir, { recursive: true, encoding: 'utf8' })) {
    const full = path.join(dataDir, entry);
    assert.equal(mode(full) & 0o077, 0, `${full} is ${octal(mode(full))}`);
  }
});

test('a database left world-readable by an older version is tightened at the next start', async () => {
  if (TEST_STORE !== 'sqlite') return;
  gateway?.kill('SIGTERM');
  await gateway?.exited;
  const db = path.join(dataDir, 'gateway.sqlite');
  fs.chmodSync(db, 0o644);
  fs.chmodSync(dataDir, 0o755);
  gateway = await spawnGateway({ dataDir, env: { ...PIPELINE_ENV } });
  assert.equal(octal(mode(dataDir)), '0700');
  assert.equal(octal(mode(db)), '0600');
  for (const file of [`${db}-wal`, `${db}-shm`])
    if (fs.existsSync(file)) assert.equal(octal(mode(file)), '0600');
});
