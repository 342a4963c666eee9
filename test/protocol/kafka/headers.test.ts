// Goal: request headers v0-v2 and response headers v0/v1 follow Kafka's layouts, including the
// ApiVersions exception (response header v0 even for flexible versions) and the v0 error response for an
// unsupported ApiVersions version.
// Method: byte vectors written out by hand from the header layouts in COMPAT.md section 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/protocol/kafka/reader.ts';
import { Writer } from '../../../src/protocol/kafka/writer.ts';
import { decodeRequestHeader, encodeRequestHeader, requestHeaderVersion } from '../../../src/protocol/kafka/request-header.ts';
import { responseHeaderVersion } from '../../../src/protocol/kafka/response-header.ts';
import { apiVersionsUnsupportedFrame, isSupportedVersion, apiVersionEntries } from '../../../src/protocol/kafka/api-versions.ts';
import { decodeRequest, encodeResponseFrame, peekRequestHeader } from '../../../src/protocol/kafka/codec.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

test('header versions derive from flexible versions, with the two exceptions', () => {
  assert.equal(requestHeaderVersion(0, 8), 1);
  assert.equal(requestHeaderVersion(0, 9), 2);
  assert.equal(requestHeaderVersion(18, 2), 1);
  assert.equal(requestHeaderVersion(18, 3), 2);
  assert.equal(requestHeaderVersion(7, 0), 0);
  assert.equal(requestHeaderVersion(7, 1), 1);
  assert.equal(responseHeaderVersion(18, 3), 0);
  assert.equal(responseHeaderVersion(3, 9), 1);
  assert.equal(responseHeaderVersion(3, 8), 0);
  assert.equal(responseHeaderVersion(1, 12), 1);
});

test('request header v2 keeps client_id a classic string and adds tagged fields', () => {
  const b = Buffer.from('0012000300000007' + '0003636c69' + '00', 'hex');
  const h = decodeRequestHeader(new Reader(b), 2);
  assert.deepEqual(h, { apiKey: 18, apiVersion: 3, correlationId: 7, clientId: 'cli' });
  const w = new Writer();
  encodeRequestHeader(w, h, 2);
  assert.equal(w.toBuffer().toString('hex'), b.toString('hex'));
  const h0 = decodeRequestHeader(new Reader(Buffer.from('0007000000000001', 'hex')), 0);
  assert.equal(h0.clientId, null);
});

test('ApiVersions v3 response uses header v0 with a flexible body', () => {
  const frame = Buffer.concat(encodeResponseFrame(18, 3, 42, { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] }));
  // size, correlation id, then the body straight away (no header tagged-field byte).
  assert.equal(frame.toString('hex'), '00000013' + '0000002a' + '0000' + '02' + '0012' + '0000' + '0003' + '00' + '00000000' + '00');
});

test('unsupported ApiVersions version gets a v0 body with error 35 and only the ApiVersions entry', () => {
  const frame = apiVersionsUnsupportedFrame(9);
  assert.equal(frame.toString('hex'), '00000010' + '00000009' + '0023' + '00000001' + '0012' + '0000' + '0004');
});

test('the supported table drives ApiVersions and version checks', () => {
  assert.ok(isSupportedVersion(18, 4));
  assert.ok(!isSupportedVersion(18, 5));
  assert.ok(!isSupportedVersion(999, 0));
  const entries = apiVersionEntries();
  assert.ok(entries.some((e) => e.apiKey === 18 && e.minVersion === 0 && e.maxVersion === 4));
  assert.deepEqual(entries.map((e) => e.apiKey), [...entries.map((e) => e.apiKey)].sort((a, b) => a - b));
});

test('decodeRequest rejects unknown keys and versions with a typed error, after a cheap peek', () => {
  const v4 = Buffer.from('0012000500000005ffff00', 'hex');
  assert.deepEqual(peekRequestHeader(v4), { apiKey: 18, apiVersion: 5, correlationId: 5 });
  assert.throws(() => decodeRequest(v4), (e) => isStreamBusError(e, 'SB_ERR_UNSUPPORTED_VERSION'));
  assert.throws(() => decodeRequest(Buffer.from('03e7000000000005ffff', 'hex')), (e) => isStreamBusError(e, 'SB_ERR_UNSUPPORTED_VERSION'));
  assert.throws(() => peekRequestHeader(Buffer.alloc(7)), (e) => isStreamBusError(e, 'SB_ERR_PROTOCOL'));
});
