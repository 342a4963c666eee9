// Goal: inter-broker frames carry exactly what was encoded: hellos, refusals and batches round-trip;
// batches stay within the frame limit and keep message order however they are split; every field of a
// decoded frame is checked, a hello of another version is recognised as such, and any other input
// gives a typed SB_ERR_PEER_PROTOCOL error naming what was wrong.
// Method: round trips through the shared FrameDecoder (fast-check for batch splitting), hand-made
// malformed frames, and random and mutated frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder } from '../../../src/protocol/frame-decoder.ts';
import { batchFrames, encodePeerMessage, KEEPALIVE_FRAME, maxMessageBytes } from '../../../src/protocol/cluster/batch-frame.ts';
import { decodePeerFrame, encodeHello, encodeRefusal, type PeerFrame, type PeerMessage } from '../../../src/protocol/cluster/peer-frames.ts';
import { packPlain } from '../../../src/protocol/cluster/plain-codec.ts';
import type { Hello } from '../../../src/protocol/cluster/handshake.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

const peerProtocolError = (e: unknown): boolean => isStreamBusError(e, 'SB_ERR_PEER_PROTOCOL');

/** The payloads of the frames in `buffers`, split with the shared decoder. */
function payloads(buffers: readonly Buffer[], maxFrameBytes = 1 << 24): Buffer[] {
  const decoder = new FrameDecoder({ maxFrameBytes });
  for (const b of buffers) decoder.push(b);
  const out: Buffer[] = [];
  for (let f = decoder.next(); f !== null; f = decoder.next()) out.push(f);
  assert.equal(decoder.bufferedBytes, 0, 'only whole frames');
  return out;
}

const decodeAll = (buffers: readonly Buffer[], maxFrameBytes?: number): PeerFrame[] => payloads(buffers, maxFrameBytes).map((p) => decodePeerFrame(p));
const hello: Hello = { version: 1, cluster: 'nodes:1,2,3', brokerId: 2, incarnationId: 'c0ffee', lane: 'data' };

test('hello, refusal and keepalive round-trip', () => {
  assert.deepEqual(decodeAll([encodeHello(hello)]), [{ kind: 'hello', hello }]);
  assert.deepEqual(decodeAll([encodeRefusal({ code: 'wrong-cluster', text: 'not ours' })]), [{ kind: 'refusal', refusal: { code: 'wrong-cluster', text: 'not ours' } }]);
  assert.deepEqual(decodeAll([KEEPALIVE_FRAME]), [{ kind: 'batch', messages: [] }]);
});

test('messages holding large binaries travel with those bytes by reference and arrive whole', () => {
  const entry = fc.integer({ min: 4096, max: 30_000 }).map((n) => Buffer.alloc(n, n % 253));
  const body = fc.array(fc.oneof(fc.nat(), fc.boolean(), entry, fc.string({ maxLength: 10 })), { maxLength: 6 });
  const message = fc.record({ type: fc.integer({ min: 0, max: 255 }), body }, { noNullPrototype: true });
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), (messages) => {
      const maxFrameBytes = 1 << 20;
      const encoded = messages.map((m) => encodePeerMessage(m, maxMessageBytes(maxFrameBytes)));
      const { buffers } = batchFrames(encoded, maxFrameBytes);
      const received = payloads(buffers, maxFrameBytes).flatMap((p) => {
        const frame = decodePeerFrame(p);
        assert.ok(frame.kind === 'batch');
        return frame.messages;
      });
      assert.deepStrictEqual(received, messages);
      const large = messages.flatMap((m) => m.body.filter((b) => Buffer.isBuffer(b)) as Buffer[]);
      for (const b of large) assert.ok(buffers.some((w) => w.buffer === b.buffer && w.byteOffset === b.byteOffset), 'a large binary is written from its own bytes');
    }),
    { numRuns: 100, seed: 9 },
  );
});

test('a hello of another version is recognised by its version alone', () => {
  assert.deepEqual(decodePeerFrame(packPlain([1, 2, { anything: 'new' }])), { kind: 'unsupported-hello', version: 2 });
  assert.deepEqual(decodePeerFrame(packPlain([1, 0])), { kind: 'unsupported-hello', version: 0 });
});

test('batches keep order, stay within the frame limit and split only when they must', () => {
  const body = fc.oneof(fc.string({ maxLength: 30 }), fc.uint8Array({ maxLength: 3000 }).map((u) => Buffer.from(u)), fc.nat());
  const message = fc.record({ type: fc.integer({ min: 0, max: 255 }), body }, { noNullPrototype: true });
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 60 }), fc.integer({ min: 3100, max: 20_000 }), (messages, maxFrameBytes) => {
      const encoded = messages.map((m) => encodePeerMessage(m, maxMessageBytes(maxFrameBytes)));
      const { buffers, frameCount } = batchFrames(encoded, maxFrameBytes);
      const frames = payloads(buffers, maxFrameBytes);
      assert.equal(frames.length, frameCount);
      const batches = frames.map((p) => {
        const frame = decodePeerFrame(p);
        assert.ok(frame.kind === 'batch');
        return frame.messages;
      });
      assert.deepStrictEqual(batches.flat(), messages);
      // A frame is closed only when the next message would not have fitted in it.
      let first = 0;
      for (const batch of batches.slice(0, -1)) {
        const bytes = encoded.slice(first, first + batch.length).reduce((n, b) => n + b.length, 0);
        first += batch.length;
        assert.ok(5 + bytes + encoded[first]!.length > maxFrameBytes, 'a frame is split only when full');
      }
    }),
    { numRuns: 300, seed: 5 },
  );
  const tiny = Array.from({ length: 70_000 }, (_, i) => encodePeerMessage({ type: 1, body: i % 100 }, 1 << 20));
  assert.equal(batchFrames(tiny, 1 << 24).frameCount, 2, 'at most 65535 messages a frame');
});

test('send-side limits: type range and message size', () => {
  const sendError = (e: unknown): boolean => isStreamBusError(e, 'SB_ERR_PEER_MESSAGE');
  assert.throws(() => encodePeerMessage({ type: 256, body: null }, 100), sendError);
  assert.throws(() => encodePeerMessage({ type: -1, body: null }, 100), sendError);
  assert.throws(() => encodePeerMessage({ type: 1.5, body: null }, 100), sendError);
  assert.throws(() => encodePeerMessage({ type: 1, body: Buffer.alloc(100) }, 100), sendError);
  assert.equal(encodePeerMessage({ type: 1, body: Buffer.alloc(96) }, 100).length, 100, 'exactly the limit is fine');
});

test('every field is checked, with a message naming it', () => {
  const bad: [unknown, RegExp][] = [
    [{ kind: 1 }, /frame must be a non-empty array/],
    [[], /non-empty array/],
    [[9], /unknown frame kind 9/],
    [['1'], /unknown frame kind/],
    [[1, -1], /hello version/],
    [[1, 1, 'c', 2, 'i'], /hello must be an array of 6 items/],
    [[1, 1, 'c', 2, 'i', 'bulk'], /hello lane must be one of control, data/],
    [[1, 1, '', 2, 'i', 'data'], /hello cluster must be a string of 1\.\.256/],
    [[1, 1, 'c', -2, 'i', 'data'], /hello brokerId must be an integer/],
    [[1, 1, 'c', 2.5, 'i', 'data'], /hello brokerId/],
    [[1, 1, 'c', 2, 'x'.repeat(129), 'data'], /hello incarnationId/],
    [[2, 'code'], /refusal must be an array of 3 items/],
    [[2, 7, 'text'], /refusal code/],
    [[3, {}], /batch messages must be an array/],
    [[3, [[1, 'a'], [256, 'b']]], /batch message 1 type must be an integer 0\.\.255/],
    [[3, [[1, 'a', 'extra']]], /batch message 0 must be an array of 2 items/],
  ];
  for (const [value, message] of bad) {
    assert.throws(() => decodePeerFrame(packPlain(value)), (e: unknown) => peerProtocolError(e) && message.test((e as Error).message), JSON.stringify(value));
  }
});

test('random and mutated frames give a frame or a typed error', () => {
  const seeds = [
    encodeHello(hello).subarray(4),
    encodeRefusal({ code: 'duplicate-connection', text: 'already open' }).subarray(4),
    payloads(batchFrames([encodePeerMessage({ type: 3, body: { term: 2, entries: [Buffer.from('xy')] } }, 1000), encodePeerMessage({ type: 4, body: 'hb' }, 1000)], 4096).buffers)[0]!,
  ];
  const mutated = fc
    .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }))
    .map(([seed, edits]) => {
      const bytes = Buffer.from(seed);
      for (const [at, value] of edits) bytes[at % bytes.length] = value;
      return bytes;
    });
  let decoded = 0;
  fc.assert(
    fc.property(fc.oneof(mutated, fc.uint8Array({ minLength: 1, maxLength: 48 }).map((u) => Buffer.from(u))), (bytes) => {
      try {
        decodePeerFrame(bytes);
        decoded++;
      } catch (err) {
        assert.ok(peerProtocolError(err), `unexpected ${String(err)} for ${bytes.toString('hex')}`);
      }
    }),
    { numRuns: 20_000, seed: 3 },
  );
  assert.ok(decoded > 0, 'some mutations still decode');
});
