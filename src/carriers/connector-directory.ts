import type { ConnectorRecord } from '../store/records.ts';
import type { Repos } from '../store/store.ts';

/**
 * Connector settings and profile routes as every node reads them: from the database, kept for
 * `cacheMs` so a busy node does not read them for every message, and re-read after that, so a change
 * made with the CLI reaches every node within `cacheMs`. A name not in the cache is always read.
 */
export interface ConnectorDirectory {
  get(name: string): Promise<ConnectorRecord | undefined>;
  /** The profile's ordered connector names, or the default connector alone when it has no route. */
  route(profileId: string): Promise<string[]>;
}

export function createConnectorDirectory(
  repos: Pick<Repos, 'connectors' | 'routes'>,
  opts: { defaultConnector: string; cacheMs: number; now?: () => number },
): ConnectorDirectory {
  const now = opts.now ?? Date.now;
  const records = new Map<string, { record: ConnectorRecord; at: number }>();
  const routes = new Map<string, { names: string[]; at: number }>();
  const fresh = (at: number) => now() - at < opts.cacheMs;

  return {
    async get(name) {
      const known = records.get(name);
      if (known && fresh(known.at)) return known.record;
      const record = await repos.connectors.get(name);
      if (record) records.set(name, { record, at: now() });
      else records.delete(name);
      return record;
    },
    async route(profileId) {
      const known = routes.get(profileId);
      if (known && fresh(known.at)) return known.names;
      const route = await repos.routes.get(profileId);
      const names = route && route.connectors.length > 0 ? route.connectors : [opts.defaultConnector];
      routes.set(profileId, { names, at: now() });
      if (routes.size > 10_000) routes.clear();
      return names;
    },
  };
}
