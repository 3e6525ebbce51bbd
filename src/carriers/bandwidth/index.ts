export { type CallbackEvent, readCallbackEvents } from './callback-events.ts';
export { BANDWIDTH_DEFAULT_TIMEOUT_MS, createBandwidthConnector } from './connector.ts';
export { BANDWIDTH_ERROR_CODES, classifySubmitStatus, mapFailedCallback } from './error-codes.ts';
export {
  type BandwidthCallbackDeps,
  type CallbackAnswer,
  handleBandwidthCallbacks,
} from './receive-callbacks.ts';
