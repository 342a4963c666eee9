// Goal: the request decoder and the record batch reader survive hostile input: a value or a typed
// StreamBusError, never another exception, never a slow decode, never an allocation a length field asks
// for. (`npm run fuzz` runs the same harness with 1,000,000 frames.)
// Method: scripts/fuzz.ts with a fixed seed over mutated golden fixtures and random frames, plus explicit
// 2^31 length and count fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, loadCorpus } from '../../../scripts/fuzz.ts';
import { decodeRequest } from '../../../src/protocol/kafka/codec.ts';
import { loadCompressionCodecs } from '../../../src/protocol/kafka/compression/index.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

test('30,000 mutated and random frames give values or typed errors only', async () => {
  await loadCompressionCodecs();
  const report = fuzz(30_000, 20240601, loadCorpus());
  assert.deepEqual(report.failures, []);
  assert.equal(report.frames, 30_000);
  assert.ok(report.decoded > 0, 'some frames still decode');
  assert.ok((report.typedErrors.SB_ERR_PROTOCOL ?? 0) > 1000, 'most mutations are rejected as protocol errors');
  assert.ok(report.batches > 0);
});

test('a 2^31 length or count is rejected without allocating it', () => {
  const before = process.memoryUsage().arrayBuffers;
  // Produce v7 (non-flexible): header, transactional_id null, acks, timeout, topics count 0x7fffffff.
  const topics = Buffer.from('0000000700000001ffff' + 'ffff' + 'ffff' + '00007530' + '7fffffff', 'hex');
  assert.throws(() => decodeRequest(topics), (e) => isStreamBusError(e, 'SB_ERR_PROTOCOL'));
  // One topic whose name length claims 32767 bytes, and one partition whose records claim 2^31-1 bytes.
  const records = Buffer.from('0000000700000001ffff' + 'ffff' + 'ffff' + '00007530' + '00000001' + '000174' + '00000001' + '00000000' + '7fffffff' + '00', 'hex');
  assert.throws(() => decodeRequest(records), (e) => isStreamBusError(e, 'SB_ERR_PROTOCOL'));
  // Flexible Produce v9: compact array count near 2^32.
  const compact = Buffer.from('0000000900000001ffff00' + '00' + 'ffff' + '00007530' + 'ffffffff0f', 'hex');
  assert.throws(() => decodeRequest(compact), (e) => isStreamBusError(e, 'SB_ERR_PROTOCOL'));
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'no large allocation');
});
