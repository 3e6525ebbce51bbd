// A separate process claiming from a shared SQLite file until nothing is left; prints the ids it
// claimed as JSON. Several of these at once are several gateway processes on one database file.
import { openSqlite } from '../../src/store/sqlite/sqlite-driver.ts';
import { createStore } from '../../src/store/store.ts';

const [file, workerId] = process.argv.slice(2);
const store = createStore(openSqlite(file!));
const ids: number[] = [];
// Start together: say ready, then wait for the parent's go.
process.stderr.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
for (;;) {
  const jobs = await store.jobs.claim(workerId!, 3, 60_000);
  if (jobs.length === 0) break;
  ids.push(...jobs.map((j) => j.id));
  // A pause between claims, as a worker has while it runs its jobs: without it, on a loaded machine
  // the first process to be scheduled can take all 600 before the others run at all.
  await new Promise((resolve) => setTimeout(resolve, 1));
}
await store.close();
process.stdin.destroy();
process.stdout.write(JSON.stringify(ids));
