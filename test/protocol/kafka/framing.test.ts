// Goal: an outgoing Kafka frame is its chunks, unchanged and by reference, behind an int32 prefix holding
// their total size. (Incoming frames are split by the decoder tested in test/protocol/frame-decoder.test.ts.)
// Method: frame a few chunk lists, empty ones included, and read the prefix back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameChunks } from '../../../src/protocol/kafka/framing.ts';

test('frameChunks puts the total size in front of the same chunks', () => {
  for (const chunks of [[], [Buffer.alloc(0)], [Buffer.from('a')], [Buffer.from('hello '), Buffer.alloc(0), Buffer.alloc(300, 3)]]) {
    const framed = frameChunks(chunks);
    assert.equal(framed.length, chunks.length + 1);
    assert.equal(framed[0]!.length, 4);
    assert.equal(framed[0]!.readInt32BE(0), chunks.reduce((n, c) => n + c.length, 0));
    chunks.forEach((c, i) => assert.equal(framed[i + 1], c, 'the chunk itself, not a copy'));
  }
});
