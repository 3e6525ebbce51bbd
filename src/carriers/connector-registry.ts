import { ERRORS } from '../errors/catalogue.ts';
import type { ConnectorRecord, MessageRecord } from '../store/records.ts';
import type { ConnectorDirectory } from './connector-directory.ts';
import type { CarrierConnector } from './types.ts';

/**
 * The connector instances of a worker node, built from the stored settings and rebuilt when those
 * change. Which of them a message goes to, and in what order on failure, is decided along its
 * profile's route by `src/pipeline/submit-along-route.ts`; `connectorFor` is the route's first.
 */
export interface ConnectorRegistry {
  connectorFor(message: MessageRecord): Promise<CarrierConnector>;
  byName(name: string): Promise<CarrierConnector>;
  close(): Promise<void>;
}

export type ConnectorBuilder = (record: ConnectorRecord) => CarrierConnector;

/** A connector that cannot be used (missing, unsupported): every submit is a retryable 40006 saying why. */
export function unavailableConnector(name: string, detail: string): CarrierConnector {
  return {
    name,
    async submit() {
      return { ok: false, retryable: true, error: { code: '40006', title: ERRORS['40006'].title, detail } };
    },
  };
}

const versionOf = (r: ConnectorRecord) => `${r.type}|${r.updated_at}|${JSON.stringify(r.settings)}`;

export function createConnectorRegistry(
  directory: ConnectorDirectory,
  build: ConnectorBuilder,
): ConnectorRegistry {
  const built = new Map<string, { version: string; connector: CarrierConnector }>();
  // Replaced instances may still have submits in flight: they are closed with the registry.
  const retired: CarrierConnector[] = [];

  async function byName(name: string): Promise<CarrierConnector> {
    const record = await directory.get(name);
    const known = built.get(name);
    if (!record)
      return unavailableConnector(name, `No connector named ${JSON.stringify(name)} is configured.`);
    const version = versionOf(record);
    if (known?.version === version) return known.connector;
    const connector = build(record);
    built.set(name, { version, connector });
    if (known) retired.push(known.connector);
    return connector;
  }

  return {
    byName,
    async connectorFor(message) {
      const [first] = await directory.route(message.messaging_profile_id);
      return byName(first!);
    },
    async close() {
      for (const connector of [...retired, ...[...built.values()].map((b) => b.connector)]) {
        await connector.close?.();
      }
      built.clear();
      retired.length = 0;
    },
  };
}
