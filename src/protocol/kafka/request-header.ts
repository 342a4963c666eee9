/**
 * Request header v0-v2 (Kafka's RequestHeader.json, hand-written because the JSON does not say which
 * header version a request uses).
 *
 * v0: api_key int16, api_version int16, correlation_id int32.
 * v1: v0 + client_id nullable string with an int16 length.
 * v2: v1 + a tagged-field section; client_id stays a classic (non-compact) string.
 * A request uses v2 iff its version is flexible, else v1; v0 only for ControlledShutdown v0.
 */
import { API_BY_KEY } from './generated/index.ts';
import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';
import type { TaggedField } from './types.ts';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** null in header v0 and when the client sent a null id. */
  clientId: string | null;
  unknownTaggedFields?: TaggedField[];
}

const CONTROLLED_SHUTDOWN = 7;

/** The header version a request of this API and version uses; APIs unknown to the schema get v1. */
export function requestHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 | 2 {
  if (apiKey === CONTROLLED_SHUTDOWN && apiVersion === 0) return 0;
  const api = API_BY_KEY[apiKey];
  return api !== undefined && apiVersion >= api.requestFlexibleMin ? 2 : 1;
}

export function decodeRequestHeader(r: Reader, headerVersion: 0 | 1 | 2): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = headerVersion >= 1 ? r.nullableString(false) : null;
  const h: RequestHeader = { apiKey, apiVersion, correlationId, clientId };
  if (headerVersion >= 2) {
    const tags = r.taggedFields();
    if (tags !== undefined) h.unknownTaggedFields = tags;
  }
  return h;
}

export function encodeRequestHeader(w: Writer, h: RequestHeader, headerVersion: 0 | 1 | 2): void {
  w.int16(h.apiKey);
  w.int16(h.apiVersion);
  w.int32(h.correlationId);
  if (headerVersion >= 1) w.nullableString(h.clientId, false);
  if (headerVersion >= 2) w.taggedFields(h.unknownTaggedFields);
}
