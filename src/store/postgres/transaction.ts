import type pg from 'pg';

/**
 * Runs `fn` on one pooled client between BEGIN and COMMIT, rolling back if anything throws. A client
 * that cannot even roll back is destroyed rather than handed back to the pool in an unknown state.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    const commit = await client.query('COMMIT');
    // PostgreSQL answers COMMIT of a transaction already aborted by a failed statement (one that
    // `fn` caught and ignored) with ROLLBACK, not an error: none of its writes were kept.
    if (commit.command === 'ROLLBACK') {
      throw new Error('transaction was aborted by an earlier failed statement and has been rolled back');
    }
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
