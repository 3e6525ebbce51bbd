/**
 * MM7 (3GPP TS 23.140 §8): the SOAP interface between a service provider (us, the VASP) and an
 * operator's MMSC. This module is the public surface: parsing what an MMSC posts, the answers we
 * give it, the status mappings, and the connector that submits to it.
 */
export { type Mm7Address, normalizeMm7Number } from './address.ts';
export { createMm7Connector, type Mm7Settings } from './connector.ts';
export { Mm7Fault } from './fault.ts';
export { type Mm7Inbound, type Mm7Part, parseMm7Request } from './parse-request.ts';
export { mm7FaultResponse, mm7Response } from './responses.ts';
export { MM_STATUS_TABLE, MM7_SUBMIT_STATUS, mapMmStatus } from './status-map.ts';
