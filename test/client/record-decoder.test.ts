// Goal: fetched bytes become records with the right absolute offsets and timestamps: a fetch starting
// inside a batch skips the earlier records, control batches never show, aborted transactions are dropped
// under read_committed, a cut-off last batch is left for the next fetch, every codec decodes, and damaged
// batches are refused. Method: batches built with the protocol's batch builder, placed at chosen offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecords } from '../../src/client/record-decoder.ts';
import { buildControlBatch, buildRecordBatch, ControlType, setLogAppendTime } from '../../src/protocol/kafka/record-batch/index.ts';
import { loadCompressionCodecs } from '../../src/protocol/kafka/compression/index.ts';
import { isStreamBusError } from '../../src/util/errors.ts';

const b = (s: string) => Buffer.from(s);

function batch(baseOffset: bigint, values: string[], opts: { producerId?: bigint; transactional?: boolean; compression?: number; timestamp?: bigint } = {}): Buffer {
  return buildRecordBatch(
    values.map((v, i) => ({ key: b(`k${i}`), value: b(v), headers: [{ key: 'h', value: b(v.toUpperCase()) }], timestamp: (opts.timestamp ?? 1000n) + BigInt(i) })),
    { baseOffset, producerId: opts.producerId ?? -1n, producerEpoch: opts.producerId === undefined ? -1 : 0, baseSequence: opts.producerId === undefined ? -1 : 0, transactional: opts.transactional, compression: opts.compression },
  );
}

test('absolute offsets, timestamps, keys, values and headers; records before fromOffset are skipped', () => {
  const bytes = Buffer.concat([batch(10n, ['a', 'b', 'c']), batch(13n, ['d', 'e'], { timestamp: 5000n })]);
  const all = decodeRecords('t', 2, bytes, 10n);
  assert.deepEqual(all.records.map((r) => [r.offset, r.value!.toString(), r.key!.toString(), r.timestamp]), [
    [10n, 'a', 'k0', 1000],
    [11n, 'b', 'k1', 1001],
    [12n, 'c', 'k2', 1002],
    [13n, 'd', 'k0', 5000],
    [14n, 'e', 'k1', 5001],
  ]);
  assert.deepEqual(all.records[0]!.headers.map((h) => [h.key, h.value!.toString()]), [['h', 'A']]);
  assert.equal(all.records[0]!.topic, 't');
  assert.equal(all.records[0]!.partition, 2);
  assert.equal(all.nextOffset, 15n);
  const fromMiddle = decodeRecords('t', 2, bytes, 12n);
  assert.deepEqual(fromMiddle.records.map((r) => r.offset), [12n, 13n, 14n]);
  assert.equal(fromMiddle.nextOffset, 15n);
});

test('LogAppendTime batches report the broker time for every record', () => {
  const one = batch(0n, ['x', 'y']);
  setLogAppendTime(one, 0, 777n);
  assert.deepEqual(decodeRecords('t', 0, one, 0n).records.map((r) => r.timestamp), [777, 777]);
});

test('empty or null records: nothing, and the next offset stays where it was', () => {
  assert.deepEqual(decodeRecords('t', 0, null, 5n), { records: [], nextOffset: 5n });
  assert.deepEqual(decodeRecords('t', 0, Buffer.alloc(0), 5n), { records: [], nextOffset: 5n });
});

test('a cut-off last batch is ignored and nextOffset points at it', () => {
  const first = batch(0n, ['a']);
  const second = batch(1n, ['b', 'c']);
  const cut = Buffer.concat([first, second.subarray(0, second.length - 5)]);
  const out = decodeRecords('t', 0, cut, 0n);
  assert.deepEqual(out.records.map((r) => r.offset), [0n]);
  assert.equal(out.nextOffset, 1n);
});

test('control batches are skipped but move nextOffset past them', () => {
  const marker = buildControlBatch({ type: ControlType.commit, coordinatorEpoch: 0 }, { producerId: 7n, producerEpoch: 0, timestamp: 1n, baseOffset: 2n });
  const bytes = Buffer.concat([batch(0n, ['a', 'b'], { producerId: 7n, transactional: true }), marker]);
  const out = decodeRecords('t', 0, bytes, 0n);
  assert.deepEqual(out.records.map((r) => r.value!.toString()), ['a', 'b']);
  assert.equal(out.nextOffset, 3n);
});

test('read_committed: records of aborted transactions are dropped, committed and plain ones kept', () => {
  const abortMarker = buildControlBatch({ type: ControlType.abort, coordinatorEpoch: 0 }, { producerId: 7n, producerEpoch: 0, timestamp: 1n, baseOffset: 4n });
  const commitMarker = buildControlBatch({ type: ControlType.commit, coordinatorEpoch: 0 }, { producerId: 8n, producerEpoch: 0, timestamp: 1n, baseOffset: 5n });
  const bytes = Buffer.concat([
    batch(0n, ['aborted-1', 'aborted-2'], { producerId: 7n, transactional: true }),
    batch(2n, ['committed'], { producerId: 8n, transactional: true }),
    batch(3n, ['plain']),
    abortMarker,
    commitMarker,
    batch(6n, ['after-abort'], { producerId: 7n, transactional: true }),
  ]);
  const committed = decodeRecords('t', 0, bytes, 0n, [{ producerId: 7n, firstOffset: 0n }]);
  assert.deepEqual(committed.records.map((r) => r.value!.toString()), ['committed', 'plain', 'after-abort']);
  const uncommitted = decodeRecords('t', 0, bytes, 0n, null);
  assert.deepEqual(uncommitted.records.map((r) => r.value!.toString()), ['aborted-1', 'aborted-2', 'committed', 'plain', 'after-abort']);
  assert.equal(committed.nextOffset, 7n);
});

test('every compression codec decodes', async () => {
  await loadCompressionCodecs();
  for (const compression of [0, 1, 2, 3, 4]) {
    const out = decodeRecords('t', 0, batch(100n, ['one', 'two', 'three'], { compression }), 100n);
    assert.deepEqual(out.records.map((r) => [r.offset, r.value!.toString()]), [[100n, 'one'], [101n, 'two'], [102n, 'three']], `codec ${compression}`);
  }
});

test('a damaged batch (CRC mismatch) is refused with SB_ERR_CORRUPT, never handed out', () => {
  const bytes = batch(0n, ['abc', 'def']);
  bytes[bytes.length - 2] ^= 0xff;
  assert.throws(() => decodeRecords('t', 0, bytes, 0n), (e: unknown) => isStreamBusError(e, 'SB_ERR_CORRUPT') && /t-0/.test((e as Error).message));
});
