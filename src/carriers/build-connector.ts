import { createBandwidthConnector } from './bandwidth/index.ts';
import { type ConnectorBuilder, unavailableConnector } from './connector-registry.ts';
import type { BandwidthConnectorSettings, Mm7ConnectorSettings } from './connector-settings.ts';
import { createMm7Connector } from './mm7/index.ts';
import { createSimulator, type SimulatorOptions } from './simulator.ts';

/** What building each type of connector needs besides its stored settings. */
export interface ConnectorBuildDeps {
  /** Shared by every simulator connector: one book of submissions, one report schedule. */
  simulator: SimulatorOptions;
  /** PUBLIC_URL (or the API's own address): upstream providers fetch media from `<publicUrl>/media/…`. */
  publicUrl: string;
}

/** Builds a connector instance from its stored record. */
export function connectorBuilder(deps: ConnectorBuildDeps): ConnectorBuilder {
  return (record) => {
    switch (record.type) {
      case 'simulator':
        return { ...createSimulator(deps.simulator), name: record.name };
      case 'mm7': {
        // The MMSC is the operator's own choice (often on a private network): no address guard.
        const s = record.settings as Mm7ConnectorSettings;
        return createMm7Connector({
          name: record.name,
          url: s.url,
          vaspId: s.vaspId,
          vasId: s.vasId,
          serviceCode: s.serviceCode,
          username: s.username,
          password: s.password,
          mm7Version: s.mm7Version,
          defaultCountry: s.defaultCountry,
        });
      }
      case 'bandwidth':
        // Like an MMSC, the provider's address is the operator's choice: no address guard.
        return createBandwidthConnector({
          name: record.name,
          settings: record.settings as BandwidthConnectorSettings,
          publicUrl: deps.publicUrl,
        });
      default:
        return unavailableConnector(
          record.name,
          `Connector type ${JSON.stringify(record.type)} is not supported by this node.`,
        );
    }
  };
}
