/**
 * Response header v0 (correlation_id int32) and v1 (v0 + tagged fields). A response uses v1 iff its
 * version is flexible, except ApiVersions, whose response always uses v0 so that a client can read the
 * error of a version the broker does not support (KIP-511; the ApiVersions v3+ body is still flexible).
 */
import { API_BY_KEY } from './generated/index.ts';
import type { Reader } from './reader.ts';
import type { Writer } from './writer.ts';
import type { TaggedField } from './types.ts';

const API_VERSIONS = 18;

export interface ResponseHeader {
  correlationId: number;
  unknownTaggedFields?: TaggedField[];
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {
  if (apiKey === API_VERSIONS) return 0;
  const api = API_BY_KEY[apiKey];
  return api !== undefined && apiVersion >= api.responseFlexibleMin ? 1 : 0;
}

export function encodeResponseHeader(w: Writer, correlationId: number, headerVersion: 0 | 1, tags?: readonly TaggedField[]): void {
  w.int32(correlationId);
  if (headerVersion === 1) w.taggedFields(tags);
}

export function decodeResponseHeader(r: Reader, headerVersion: 0 | 1): ResponseHeader {
  const h: ResponseHeader = { correlationId: r.int32() };
  if (headerVersion === 1) {
    const tags = r.taggedFields();
    if (tags !== undefined) h.unknownTaggedFields = tags;
  }
  return h;
}
