// Goal: the hot paths do not copy record bytes: a decoded Produce request's records are a view into the
// request frame, and an encoded Fetch response hands the stored batch buffers out by reference, in
// order, for a vectored write.
// Method: compare the underlying ArrayBuffer and offsets of decoded records with the frame, and look
// for the very Buffer objects among the encoded chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRequest, decodeResponse, encodeRequestFrame, encodeResponseFrame, isRequest } from '../../../src/protocol/kafka/codec.ts';
import { buildRecordBatch, checkBatch } from '../../../src/protocol/kafka/record-batch/index.ts';

const batch = buildRecordBatch([{ key: Buffer.from('k'), value: Buffer.alloc(4000, 1), timestamp: 1n }]);

for (const version of [3, 7, 9, 11]) {
  test(`Produce v${version}: decoded records are a view into the frame`, () => {
    const frame = Buffer.concat(encodeRequestFrame(0, version, 1, 'c', { acks: -1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records: batch }] }] })).subarray(4);
    const req = decodeRequest(frame);
    assert.ok(isRequest(req, 0));
    const records = req.body.topicData[0]!.partitionData[0]!.records!;
    assert.equal(records.buffer, frame.buffer, 'same memory');
    assert.ok(records.byteOffset >= frame.byteOffset && records.byteOffset + records.length <= frame.byteOffset + frame.length);
    assert.deepEqual(Buffer.from(records), batch);
    assert.equal(checkBatch(records), null);
  });
}

for (const version of [4, 11, 12]) {
  test(`Fetch v${version}: response encoding passes stored batches through by reference`, () => {
    const other = buildRecordBatch([{ value: Buffer.alloc(2000, 2), timestamp: 2n }]);
    const chunks = encodeResponseFrame(1, version, 9, {
      responses: [{ topic: 't', partitions: [{ partitionIndex: 0, highWatermark: 2n, lastStableOffset: 2n, logStartOffset: 0n, records: [batch, other] }] }],
    });
    const i = chunks.indexOf(batch);
    assert.ok(i > 0, 'first batch is one of the chunks');
    assert.equal(chunks[i + 1], other, 'second batch follows by reference');
    const frame = Buffer.concat(chunks);
    assert.equal(frame.readInt32BE(0), frame.length - 4);
    const { body } = decodeResponse(1, version, frame.subarray(4));
    assert.deepEqual(Buffer.from(body.responses[0]!.partitions[0]!.records!), Buffer.concat([batch, other]));
  });
}
