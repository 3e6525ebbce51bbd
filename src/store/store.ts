import { autorespConfigsRepo } from './sql/autoresp-configs.ts';
import { chaosRepo } from './sql/chaos.ts';
import { connectorBreakersRepo } from './sql/connector-breakers.ts';
import { connectorsRepo } from './sql/connectors.ts';
import { dashboardSessionsRepo } from './sql/dashboard-sessions.ts';
import type { Dialect, SqlDriver, SqlExecutor } from './sql/driver.ts';
import { idempotencyRepo } from './sql/idempotency.ts';
import { inboundReceiptsRepo } from './sql/inbound-receipts.ts';
import { jobsRepo, WORK_CHANNEL, workNews } from './sql/jobs.ts';
import { messagesRepo } from './sql/messages.ts';
import { numbersRepo } from './sql/numbers.ts';
import { operationsRepo } from './sql/operations.ts';
import { optOutsRepo } from './sql/optouts.ts';
import { organizationSigningKeysRepo } from './sql/organization-signing-keys.ts';
import { apiKeysRepo, organizationsRepo } from './sql/organizations.ts';
import { profilesRepo } from './sql/profiles.ts';
import { rateLimitsRepo } from './sql/rate-limits.ts';
import { routesRepo } from './sql/routes.ts';
import { simulatorSubmissionsRepo } from './sql/simulator-ledger.ts';
import { spendRepo } from './sql/spend.ts';
import { throughputRepo } from './sql/throughput.ts';
import { upstreamWebhookEventsRepo } from './sql/upstream-webhook-events.ts';
import { webhooksRepo } from './sql/webhooks.ts';

const REPOS = {
  organizations: (db: SqlExecutor, dialect: Dialect) => organizationsRepo(db, dialect),
  apiKeys: (db: SqlExecutor) => apiKeysRepo(db),
  profiles: (db: SqlExecutor, dialect: Dialect) => profilesRepo(db, dialect),
  numbers: (db: SqlExecutor, dialect: Dialect) => numbersRepo(db, dialect),
  messages: (db: SqlExecutor) => messagesRepo(db),
  jobs: (db: SqlExecutor, dialect: Dialect) => jobsRepo(db, dialect),
  webhooks: (db: SqlExecutor) => webhooksRepo(db),
  simulator: (db: SqlExecutor) => simulatorSubmissionsRepo(db),
  rateLimits: (db: SqlExecutor) => rateLimitsRepo(db),
  spend: (db: SqlExecutor) => spendRepo(db),
  idempotency: (db: SqlExecutor) => idempotencyRepo(db),
  organizationSigningKeys: (db: SqlExecutor) => organizationSigningKeysRepo(db),
  dashboardSessions: (db: SqlExecutor) => dashboardSessionsRepo(db),
  connectors: (db: SqlExecutor) => connectorsRepo(db),
  routes: (db: SqlExecutor) => routesRepo(db),
  inboundReceipts: (db: SqlExecutor) => inboundReceiptsRepo(db),
  operations: (db: SqlExecutor, dialect: Dialect) => operationsRepo(db, dialect),
  optOuts: (db: SqlExecutor) => optOutsRepo(db),
  autorespConfigs: (db: SqlExecutor) => autorespConfigsRepo(db),
  upstreamWebhookEvents: (db: SqlExecutor) => upstreamWebhookEventsRepo(db),
  chaos: (db: SqlExecutor) => chaosRepo(db),
  breakers: (db: SqlExecutor, dialect: Dialect) => connectorBreakersRepo(db, dialect),
  throughput: (db: SqlExecutor, dialect: Dialect) => throughputRepo(db, dialect),
};

type RepoMap = { [K in keyof typeof REPOS]: ReturnType<(typeof REPOS)[K]> };

const boundByExecutor = new WeakMap<SqlExecutor, RepoMap>();

/**
 * Every repository bound to `db`, each built on first use and kept for the executor's lifetime:
 * SQLite hands every transaction the same executor, and most transactions touch one or two repos.
 */
function bindRepos(db: SqlExecutor, dialect: Dialect): RepoMap {
  const known = boundByExecutor.get(db);
  if (known) return known;
  const built: Partial<RepoMap> = {};
  const repos = {} as RepoMap;
  for (const name of Object.keys(REPOS) as Array<keyof RepoMap>) {
    Object.defineProperty(repos, name, {
      enumerable: true,
      get: () => {
        // biome-ignore lint/suspicious/noAssignInExpressions: build once
        return (built[name] ??= REPOS[name](db, dialect) as never);
      },
    });
  }
  boundByExecutor.set(db, repos);
  return repos;
}

/** Every repository, bound to one connection or to one open transaction. */
export type Repos = RepoMap;

/** The gateway's storage: the same async interface over SQLite and PostgreSQL. */
export interface Store extends Repos {
  readonly dialect: Dialect;
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  close(): Promise<void>;
  /**
   * Calls `onWork` when another process enqueues a job (PostgreSQL), with its queue when known; a
   * no-op on SQLite.
   */
  subscribeToWork(onWork: (queue?: string, fairKey?: string) => void): Promise<() => Promise<void>>;
}

export function createStore(driver: SqlDriver): Store {
  return {
    ...bindRepos(driver, driver.dialect),
    dialect: driver.dialect,
    transaction: (fn) => driver.transaction((tx) => fn(bindRepos(tx, driver.dialect))),
    migrate: () => driver.migrate(),
    close: () => driver.close(),
    subscribeToWork: (onWork) =>
      driver.listen
        ? driver.listen(WORK_CHANNEL, (payload) => {
            const { queue, fairKey } = workNews(payload);
            onWork(queue, fairKey);
          })
        : Promise.resolve(async () => {}),
  };
}
