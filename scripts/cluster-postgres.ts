/**
 * The PostgreSQL of `npm run cluster`, in a process of its own that local-cluster.ts starts detached:
 * a Ctrl-C at the terminal reaches the gateway nodes but not this database, which stops only once
 * the nodes are gone (SIGTERM from local-cluster.ts, or its end of our stdin closing).
 */
import pg from 'pg';
import { startPostgresServer } from '../test/support/postgres-server.ts';

const server = await startPostgresServer();
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
await admin.query('CREATE DATABASE mms_gateway');
await admin.end();

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', () => {}); // not ours to act on: the cluster decides when the database goes
process.stdin.on('end', stop).resume();
process.stdout.write(
  `${JSON.stringify({ url: server.url.replace(/\/postgres$/, '/mms_gateway'), dataDir: server.dataDir })}\n`,
);
