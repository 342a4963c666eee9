/**
 * Decodes a response frame (size prefix removed) with the generated decoder of its version and
 * requires every byte to be used: a decoder that stops early would hide a body the broker encoded
 * with another version's layout.
 */
import assert from 'node:assert/strict';
import { API_BY_KEY, type ApiKey, type ApiMessages } from '../../src/protocol/kafka/generated/index.ts';
import { Reader } from '../../src/protocol/kafka/reader.ts';
import { decodeResponseHeader, responseHeaderVersion } from '../../src/protocol/kafka/response-header.ts';

export function decodeWholeResponse<K extends ApiKey>(apiKey: K, version: number, frame: Buffer, correlationId: number): ApiMessages[K]['response'] {
  const api = API_BY_KEY[apiKey];
  assert.ok(api, `no codec for API key ${apiKey}`);
  const what = `${api.name} v${version}`;
  const r = new Reader(frame);
  const header = decodeResponseHeader(r, responseHeaderVersion(apiKey, version));
  assert.equal(header.correlationId, correlationId, `${what}: correlation id`);
  const body = api.decodeResponse(r, version) as ApiMessages[K]['response'];
  assert.equal(r.remaining(), 0, `${what}: ${r.remaining()} bytes left after decoding the response`);
  return body;
}
