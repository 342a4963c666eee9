/**
 * Entry points from frames to messages and back, for the broker (decodeRequest, encodeResponseFrame)
 * and for the small client (encodeRequestFrame, decodeResponse).
 *
 * Frames here are the bytes after the int32 size prefix (what FrameDecoder yields). Decoded bodies hold
 * views into the frame (bytes and records fields): they share its memory. Encoders return the frame as a
 * list of chunks, size prefix included, ready for a vectored write; record buffers are passed through by
 * reference, never concatenated.
 *
 * Errors: SB_ERR_PROTOCOL for malformed bytes, SB_ERR_UNSUPPORTED_VERSION for an API key or version the
 * schema does not define. Whether a version is *advertised* is the broker's check (api-versions.ts).
 */
import { StreamBusError } from '../../util/errors.ts';
import { API_BY_KEY, type ApiCodec, type ApiKey, type ApiMessages } from './generated/index.ts';
import { Reader, protocolError } from './reader.ts';
import { Writer } from './writer.ts';
import { decodeRequestHeader, encodeRequestHeader, requestHeaderVersion, type RequestHeader } from './request-header.ts';
import { decodeResponseHeader, encodeResponseHeader, responseHeaderVersion, type ResponseHeader } from './response-header.ts';
import type { Input } from './types.ts';

/** The fixed first eight bytes of every request header. */
export interface RequestHeaderPeek {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

/** Reads api_key, api_version and correlation_id without decoding anything else (all header versions start so). */
export function peekRequestHeader(frame: Buffer): RequestHeaderPeek {
  if (frame.length < 8) throw protocolError(`request frame of ${frame.length} bytes is shorter than a header`);
  return { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4) };
}

function codecFor(apiKey: number, apiVersion: number): ApiCodec {
  const api = API_BY_KEY[apiKey];
  if (api === undefined) throw new StreamBusError('SB_ERR_UNSUPPORTED_VERSION', `unknown API key ${apiKey}`);
  if (apiVersion < api.minVersion || apiVersion > api.maxVersion) {
    throw new StreamBusError('SB_ERR_UNSUPPORTED_VERSION', `${api.name} has no version ${apiVersion}`);
  }
  return api;
}

export interface DecodedRequest {
  header: RequestHeader;
  /** The request body: ApiMessages[header.apiKey]['request']; narrow with `isRequest`. */
  body: unknown;
}

/** Decodes a request frame (without its size prefix) into header and body. */
export function decodeRequest(frame: Buffer): DecodedRequest {
  const peek = peekRequestHeader(frame);
  const api = codecFor(peek.apiKey, peek.apiVersion);
  const r = new Reader(frame);
  const header = decodeRequestHeader(r, requestHeaderVersion(peek.apiKey, peek.apiVersion));
  const body = api.decodeRequest(r, peek.apiVersion);
  return { header, body };
}

/** Narrows a decoded request to the body type of one API. */
export function isRequest<K extends ApiKey>(req: DecodedRequest, apiKey: K): req is { header: RequestHeader; body: ApiMessages[K]['request'] } {
  return req.header.apiKey === apiKey;
}

/** Encodes a response frame: size prefix, header (v0/v1 by version, v0 for ApiVersions) and body. */
export function encodeResponseFrame<K extends ApiKey>(apiKey: K, apiVersion: number, correlationId: number, body: Input<ApiMessages[K]['response']>): Buffer[] {
  const api = codecFor(apiKey, apiVersion);
  const w = new Writer(256);
  w.int32(0);
  encodeResponseHeader(w, correlationId, responseHeaderVersion(apiKey, apiVersion));
  api.encodeResponse(w, body, apiVersion);
  const size = w.length - 4;
  w.patchFirstInt32(size);
  return w.finish();
}

/** Encodes a request frame: size prefix, header (v1/v2 by version) and body. */
export function encodeRequestFrame<K extends ApiKey>(apiKey: K, apiVersion: number, correlationId: number, clientId: string | null, body: Input<ApiMessages[K]['request']>): Buffer[] {
  const api = codecFor(apiKey, apiVersion);
  const w = new Writer(256);
  w.int32(0);
  encodeRequestHeader(w, { apiKey, apiVersion, correlationId, clientId }, requestHeaderVersion(apiKey, apiVersion));
  api.encodeRequest(w, body, apiVersion);
  w.patchFirstInt32(w.length - 4);
  return w.finish();
}

/**
 * Decodes a response frame (without its size prefix). The response does not name its API: the caller
 * passes the key and version of the request it matched by correlation id.
 */
export function decodeResponse<K extends ApiKey>(apiKey: K, apiVersion: number, frame: Buffer): { header: ResponseHeader; body: ApiMessages[K]['response'] } {
  const api = codecFor(apiKey, apiVersion);
  const r = new Reader(frame);
  const header = decodeResponseHeader(r, responseHeaderVersion(apiKey, apiVersion));
  const body = api.decodeResponse(r, apiVersion) as ApiMessages[K]['response'];
  return { header, body };
}
