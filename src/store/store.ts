import type { Dialect, SqlDriver, SqlExecutor } from './sql/driver.ts';
import { jobsRepo, WORK_CHANNEL } from './sql/jobs.ts';
import { messagesRepo } from './sql/messages.ts';
import { numbersRepo } from './sql/numbers.ts';
import { apiKeysRepo, organizationsRepo } from './sql/organizations.ts';
import { profilesRepo } from './sql/profiles.ts';
import { signingKeysRepo } from './sql/signing-keys.ts';
import { simulatorSubmissionsRepo } from './sql/simulator-ledger.ts';
import { webhooksRepo } from './sql/webhooks.ts';

function bindRepos(db: SqlExecutor, dialect: Dialect) {
  return {
    organizations: organizationsRepo(db),
    apiKeys: apiKeysRepo(db),
    profiles: profilesRepo(db),
    numbers: numbersRepo(db),
    messages: messagesRepo(db),
    jobs: jobsRepo(db, dialect),
    webhooks: webhooksRepo(db),
    simulator: simulatorSubmissionsRepo(db),
    signingKeys: signingKeysRepo(db),
  };
}

/** Every repository, bound to one connection or to one open transaction. */
export type Repos = ReturnType<typeof bindRepos>;

/** The gateway's storage: the same async interface over SQLite and PostgreSQL. */
export interface Store extends Repos {
  readonly dialect: Dialect;
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Calls `onWork` when another process enqueues a job (PostgreSQL); a no-op on SQLite. */
  subscribeToWork(onWork: () => void): Promise<() => Promise<void>>;
}

export function createStore(driver: SqlDriver): Store {
  return {
    ...bindRepos(driver, driver.dialect),
    dialect: driver.dialect,
    transaction: (fn) => driver.transaction((tx) => fn(bindRepos(tx, driver.dialect))),
    migrate: () => driver.migrate(),
    close: () => driver.close(),
    subscribeToWork: (onWork) =>
      driver.listen ? driver.listen(WORK_CHANNEL, onWork) : Promise.resolve(async () => {}),
  };
}
