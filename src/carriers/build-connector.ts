import { createBandwidthConnector } from './bandwidth/index.ts';
import { type ConnectorBuilder, unavailableConnector } from './connector-registry.ts';
import type {
  BandwidthConnectorSettings,
  Mm7ConnectorSettings,
  TelnyxConnectorSettings,
} from './connector-settings.ts';
import { createMm7Connector } from './mm7/index.ts';
import { createSimulator, type SimulatorOptions } from './simulator.ts';
import { createTelnyxConnector } from './telnyx/index.ts';

/** What building each type of connector needs besides its stored settings. */
export interface ConnectorBuildDeps {
  /** Shared by every simulator connector: one book of submissions, one report schedule. */
  simulator: SimulatorOptions;
  /** PUBLIC_URL (no trailing slash): upstream connectors link media and webhooks to it. */
  publicUrl: string | undefined;
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
      case 'telnyx': {
        // Without PUBLIC_URL the upstream could neither fetch the media nor report back: the
        // messages wait (retryable) until the operator sets it, rather than going out unreported.
        if (!deps.publicUrl) {
          return unavailableConnector(
            record.name,
            'PUBLIC_URL is not set on this node: an upstream connector needs it for media and webhooks.',
          );
        }
        const s = record.settings as TelnyxConnectorSettings;
        return createTelnyxConnector({
          name: record.name,
          apiKey: s.apiKey,
          baseUrl: s.baseUrl,
          messagingProfileId: s.messagingProfileId,
          publicUrl: deps.publicUrl,
        });
      }
      case 'bandwidth':
        // Like an MMSC, the provider's address is the operator's choice: no address guard.
        if (!deps.publicUrl) {
          return unavailableConnector(
            record.name,
            'PUBLIC_URL is not set on this node: an upstream connector needs it for media and callbacks.',
          );
        }
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
