/** A Telnyx-compatible upstream provider: the connector that submits to it and its webhook receiver. */
export { createTelnyxConnector, type TelnyxUpstreamSettings, upstreamWebhookPath } from './connector.ts';
export { fetchInboundMedia, InboundMediaError } from './inbound-media.ts';
export {
  handleUpstreamWebhook,
  type UpstreamWebhookAnswer,
  type UpstreamWebhookDeps,
} from './receive-webhook.ts';
export { verifyTelnyxSignature } from './verify-signature.ts';
