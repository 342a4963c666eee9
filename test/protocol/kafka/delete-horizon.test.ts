// Goal: a delete horizon (KIP-534) is written as Kafka writes it: attributes bit 6 set, the horizon in
// baseTimestamp, every record's timestamp (baseTimestamp + delta) unchanged, every other header field
// and the records' other bytes as they were, a valid CRC; a batch without bit 6 has no horizon.
// Method: build a control batch and a data batch with several records, stamp them, read them back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Attributes,
  ControlType,
  buildControlBatch,
  buildRecordBatch,
  checkBatch,
  readBatchHeader,
  readControlMarker,
  readDeleteHorizonMs,
  readRecords,
  withDeleteHorizon,
} from '../../../src/protocol/kafka/record-batch/index.ts';

const timestamps = (batch: Buffer) => {
  const base = readBatchHeader(batch).baseTimestamp;
  return readRecords(batch).map((r) => base + BigInt(r.timestampDelta));
};

test('a stamped marker keeps its decision, its record timestamp and every other header field', () => {
  const marker = buildControlBatch({ type: ControlType.commit, coordinatorEpoch: 4 }, { producerId: 12n, producerEpoch: 3, timestamp: 1_700_000_000_000n, baseOffset: 40n, partitionLeaderEpoch: 2 });
  assert.equal(readDeleteHorizonMs(marker, 0), null);
  const stamped = withDeleteHorizon(marker, 1_700_086_400_000);
  assert.equal(readDeleteHorizonMs(stamped, 0), 1_700_086_400_000);
  assert.equal(checkBatch(stamped), null, 'a well-formed batch with a valid CRC');
  const [before, after] = [readBatchHeader(marker), readBatchHeader(stamped)];
  assert.equal(after.attributes, before.attributes | Attributes.hasDeleteHorizonMs);
  assert.equal(after.baseTimestamp, 1_700_086_400_000n);
  const same = (h: typeof before) => ({ ...h, attributes: 0, baseTimestamp: 0n, crc: 0, batchLength: 0 });
  assert.deepEqual(same(after), same(before));
  assert.deepEqual(timestamps(stamped), timestamps(marker));
  assert.deepEqual(readControlMarker(readRecords(stamped)[0]!), { type: ControlType.commit, coordinatorEpoch: 4 });
});

test('every record of a data batch keeps its timestamp, key, value and headers', () => {
  const batch = buildRecordBatch(
    [
      { key: Buffer.from('a'), value: Buffer.from('1'), timestamp: 1_000n, headers: [{ key: 'h', value: Buffer.from('x') }] },
      { key: Buffer.from('b'), value: null, timestamp: 5_000n },
      { key: null, value: Buffer.alloc(300, 2), timestamp: 900n },
    ],
    { baseTimestamp: 1_000n },
  );
  const stamped = withDeleteHorizon(batch, 90_000_000);
  assert.equal(checkBatch(stamped), null);
  assert.deepEqual(timestamps(stamped), [1_000n, 5_000n, 900n]);
  const strip = (b: Buffer) => readRecords(b).map((r) => ({ ...r, timestampDelta: 0 }));
  assert.deepEqual(strip(stamped), strip(batch));
});
