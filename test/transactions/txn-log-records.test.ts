// Goal: `__transaction_state` records are Kafka's TransactionLogKey / TransactionLogValue version 0 byte
// for byte, round-trip every status and partition list, and refuse anything else (unknown versions and
// statuses, truncation, trailing bytes, absurd counts) with SB_ERR_CORRUPT, never a RangeError.
// Method: hand-assembled bytes; round trips; fast-check over arbitrary bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeTxnLogKey, decodeTxnLogValue, encodeTxnLogKey, encodeTxnLogValue, TxnStatus, type TxnLogValue, type TxnStatusName } from '../../src/transactions/txn-log-records.ts';
import { isStreamBusError } from '../../src/util/errors.ts';

test('the key is version 0 and the transactional id', () => {
  assert.equal(encodeTxnLogKey('tx').toString('hex'), '0000' + '0002' + '7478');
  assert.equal(decodeTxnLogKey(Buffer.from('000000027478', 'hex')), 'tx');
});

test('the value is Kafka\'s version 0 layout', () => {
  const value: TxnLogValue = { producerId: 7n, producerEpoch: 3, timeoutMs: 60_000, status: 'Ongoing', partitions: [{ topic: 'a', partitions: [0, 2] }], lastUpdateMs: 1000, startMs: 900 };
  const hex =
    '0000' + // version
    '0000000000000007' + // producer id
    '0003' + // epoch
    '0000ea60' + // timeout
    '01' + // Ongoing
    '00000001' + '0001' + '61' + '00000002' + '00000000' + '00000002' + // [a: 0, 2]
    '00000000000003e8' + // last update
    '0000000000000384'; // start
  assert.equal(encodeTxnLogValue(value).toString('hex'), hex);
  assert.deepEqual(decodeTxnLogValue(Buffer.from(hex, 'hex')), value);
});

test('every status and partition list round-trips', () => {
  for (const status of Object.keys(TxnStatus) as TxnStatusName[]) {
    const v: TxnLogValue = { producerId: 123456789012n, producerEpoch: 32766, timeoutMs: 1, status, partitions: status === 'Ongoing' ? [{ topic: 'x', partitions: [5] }, { topic: 'y', partitions: [] }] : [], lastUpdateMs: 1_700_000_000_000, startMs: -1 };
    assert.deepEqual(decodeTxnLogValue(encodeTxnLogValue(v)), v);
  }
});

test('anything else is refused as corrupt', () => {
  const good = encodeTxnLogValue({ producerId: 1n, producerEpoch: 0, timeoutMs: 1, status: 'Empty', partitions: [], lastUpdateMs: 1, startMs: -1 });
  const bad = [Buffer.from('0001', 'hex'), good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])]), Buffer.from(good), Buffer.from('00010002', 'hex')];
  bad[3]!.writeInt8(9, 16); // status 9 (after version, id, epoch and timeout)
  for (const b of bad) assert.throws(() => decodeTxnLogValue(b), (err: unknown) => isStreamBusError(err) && err.code === 'SB_ERR_CORRUPT', b.toString('hex'));
  assert.throws(() => decodeTxnLogKey(Buffer.from('000100017a', 'hex')), /unknown key version 1/);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      for (const decode of [decodeTxnLogKey, decodeTxnLogValue]) {
        try {
          decode(Buffer.from(bytes));
        } catch (err) {
          assert.ok(isStreamBusError(err) && err.code === 'SB_ERR_CORRUPT', String(err));
        }
      }
    }),
    { numRuns: 3000 },
  );
});
