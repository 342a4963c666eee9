// Goal: the record iterator reads keys, null values, offsets and timestamps of an uncompressed batch,
// and reports malformed records as typed errors.
// Method: batches built by the helpers (their own varint encoder), then corrupted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachRecord } from '../../src/storage/records.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { makeBatch } from './helpers.ts';

test('keys, tombstones, offsets and timestamps', () => {
  const b = makeBatch(
    [
      { key: Buffer.from('a'), value: Buffer.from('1'), timestampDelta: 0 },
      { key: null, value: Buffer.from('2'), timestampDelta: 70 },
      { key: Buffer.from('b'.repeat(300)), value: null, timestampDelta: 100000 },
    ],
    5000,
  );
  b.writeBigInt64BE(42n, 0);
  const seen: Array<[number, number, string | undefined, boolean]> = [];
  forEachRecord(b, 0, (r) => seen.push([r.offset, r.timestamp, r.key?.toString().slice(0, 3), r.valueIsNull]));
  assert.deepEqual(seen, [
    [42, 5000, 'a', false],
    [43, 5070, undefined, false],
    [44, 105000, 'bbb', true],
  ]);
});

test('a malformed record is a typed error', () => {
  const b = makeBatch([{ key: Buffer.from('a'), value: Buffer.from('1') }]);
  b[61] = 0x7f; // record length far past the batch end
  assert.throws(() => forEachRecord(b, 0, () => undefined), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
});
