// Goal: the size-prefixed frame decoder hands out exactly the frames that were sent, however the bytes
// are split into chunks; a frame inside one chunk is a view of it and a split frame is copied once; a
// size outside the limits fails as soon as its prefix is known, with a typed error, and keeps failing.
// Method: cut a stream of frames (empty, tiny, larger) at every byte position, at every pair of positions
// and into single bytes; random frames and random cuts with fast-check; hostile prefixes, whole and split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder } from '../../src/protocol/frame-decoder.ts';
import { FrameSizeError, isStreamBusError } from '../../src/util/errors.ts';

function prefixed(frame: Uint8Array): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(frame.length);
  return Buffer.concat([prefix, frame]);
}

/** Pushes each part in turn and drains the decoder after each; returns copies of the frames seen. */
function decodeParts(decoder: FrameDecoder, parts: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const part of parts) {
    decoder.push(part);
    for (let f = decoder.next(); f !== null; f = decoder.next()) out.push(Buffer.from(f));
  }
  return out;
}

/** `bytes` cut at the given ascending positions. */
function cut(bytes: Buffer, positions: readonly number[]): Buffer[] {
  const parts: Buffer[] = [];
  let from = 0;
  for (const at of positions) {
    parts.push(bytes.subarray(from, at));
    from = at;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

const frames = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello world'), Buffer.alloc(0), Buffer.alloc(300, 3), Buffer.from('end')];
const stream = Buffer.concat(frames.map(prefixed));

test('frames come out whole for every split point', () => {
  for (let at = 0; at <= stream.length; at++) {
    const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
    assert.deepEqual(decodeParts(decoder, cut(stream, [at])), frames, `split at ${at}`);
    assert.equal(decoder.bufferedBytes, 0);
  }
});

test('frames come out whole for every pair of split points', () => {
  for (let first = 0; first <= stream.length; first++) {
    for (let second = first; second <= stream.length; second++) {
      const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
      assert.deepEqual(decodeParts(decoder, cut(stream, [first, second])), frames, `split at ${first} and ${second}`);
    }
  }
});

test('frames come out whole from single-byte chunks, and not one early', () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
  const out: Buffer[] = [];
  const endOfFrame = new Set<number>();
  let end = 0;
  for (const f of frames) endOfFrame.add((end += 4 + f.length));
  for (let i = 0; i < stream.length; i++) {
    decoder.push(stream.subarray(i, i + 1));
    const before = out.length;
    for (let f = decoder.next(); f !== null; f = decoder.next()) out.push(Buffer.from(f));
    assert.equal(out.length > before, endOfFrame.has(i + 1), `after byte ${i + 1}`);
  }
  assert.deepEqual(out, frames);
  assert.equal(decoder.bufferedBytes, 0);
});

test('random frames cut at random places come out as sent', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (sent, cuts) => {
        const bytes = Buffer.concat(sent.map(prefixed));
        const positions = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const decoder = new FrameDecoder({ maxFrameBytes: 200 });
        assert.deepEqual(decodeParts(decoder, cut(bytes, positions)), sent.map((s) => Buffer.from(s)));
        assert.equal(decoder.bufferedBytes, 0);
      },
    ),
  );
});

test('many frames in one chunk are all views of that chunk', () => {
  const many = Array.from({ length: 1000 }, (_, i) => Buffer.from(`frame ${i}`));
  const chunk = Buffer.concat(many.map(prefixed));
  const decoder = new FrameDecoder({ maxFrameBytes: 64 });
  decoder.push(chunk);
  const out: Buffer[] = [];
  for (let f = decoder.next(); f !== null; f = decoder.next()) out.push(f);
  assert.deepEqual(out, many);
  for (const f of out) assert.equal(f.buffer, chunk.buffer, 'a view, not a copy');
  assert.equal(out[999]!.byteOffset, chunk.byteOffset + chunk.length - many[999]!.length);
  assert.equal(decoder.bufferedBytes, 0);
});

test('a frame split across chunks is copied once into a buffer of its own size; the rest stays a view', () => {
  const body = Buffer.alloc(10_000, 7);
  const bytes = Buffer.concat([prefixed(body), prefixed(Buffer.from('next'))]);
  const decoder = new FrameDecoder({ maxFrameBytes: 20_000 });
  const parts = cut(bytes, [3, 5_000, 10_002]);
  for (const part of parts.slice(0, 3)) decoder.push(part);
  assert.equal(decoder.next(), null, 'two bytes of the frame are still missing');
  decoder.push(parts[3]!);
  const split = decoder.next()!;
  assert.deepEqual(split, body);
  assert.equal(split.length, split.buffer.byteLength, 'the copy holds only the frame');
  const tail = decoder.next()!;
  assert.equal(tail.toString(), 'next');
  assert.equal(tail.buffer, parts[3]!.buffer, 'the frame after it is a view of the last chunk');
  assert.equal(decoder.next(), null);
});

test('a long frame in single-byte chunks comes out whole', () => {
  const body = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));
  const bytes = prefixed(body);
  const decoder = new FrameDecoder({ maxFrameBytes: body.length });
  let frame: Buffer | null = null;
  for (let i = 0; i < bytes.length; i++) {
    decoder.push(bytes.subarray(i, i + 1));
    frame = decoder.next();
    assert.equal(frame === null, i < bytes.length - 1, `after byte ${i + 1}`);
  }
  assert.deepEqual(frame, body);
});

test('nextFrameBytes tells the size of a whole frame without taking it', () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 64 });
  const bytes = Buffer.concat([prefixed(Buffer.from('abc')), prefixed(Buffer.alloc(0))]);
  decoder.push(bytes.subarray(0, 6));
  assert.equal(decoder.nextFrameBytes(), null, 'one byte of the body is missing');
  decoder.push(bytes.subarray(6));
  assert.equal(decoder.nextFrameBytes(), 3);
  assert.equal(decoder.nextFrameBytes(), 3, 'asking again takes nothing');
  assert.equal(decoder.bufferedBytes, bytes.length);
  assert.equal(decoder.next()!.toString(), 'abc');
  assert.equal(decoder.nextFrameBytes(), 0);
  assert.deepEqual(decoder.next(), Buffer.alloc(0));
  assert.equal(decoder.nextFrameBytes(), null);
  assert.equal(decoder.next(), null);
});

test('a size of zero is an empty frame unless a minimum says otherwise', () => {
  const zero = Buffer.from('00000000', 'hex');
  const plain = new FrameDecoder({ maxFrameBytes: 16 });
  plain.push(Buffer.concat([zero, zero]));
  assert.deepEqual(plain.next(), Buffer.alloc(0));
  assert.deepEqual(plain.next(), Buffer.alloc(0));
  assert.equal(plain.next(), null);
  const strict = new FrameDecoder({ maxFrameBytes: 16, minFrameBytes: 4 });
  strict.push(zero);
  assert.throws(() => strict.next(), (e) => isStreamBusError(e, 'SB_ERR_PROTOCOL') && e instanceof FrameSizeError && e.size === 0);
  const atMinimum = new FrameDecoder({ maxFrameBytes: 16, minFrameBytes: 4 });
  atMinimum.push(prefixed(Buffer.from('abcd')));
  assert.equal(atMinimum.next()!.toString(), 'abcd');
});

/** Feeds `prefix` (then a body byte) to a fresh decoder, whole or split after `at` bytes, and returns what next() throws. */
function thrownBy(prefix: string, at: number, limits: { maxFrameBytes: number; minFrameBytes?: number }): FrameSizeError {
  const decoder = new FrameDecoder(limits);
  const bytes = Buffer.from(prefix, 'hex');
  decoder.push(bytes.subarray(0, at));
  if (at < 4) assert.equal(decoder.next(), null, 'no verdict before the prefix is whole');
  decoder.push(bytes.subarray(at));
  let error: unknown = null;
  try {
    decoder.next();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof FrameSizeError, `prefix ${prefix} split at ${at} throws FrameSizeError`);
  decoder.push(Buffer.from([1]));
  assert.throws(() => decoder.nextFrameBytes(), FrameSizeError, 'the stream stays out of step');
  return error;
}

test('sizes outside the limits fail as soon as the prefix is whole, before any body arrives', () => {
  for (let at = 0; at <= 4; at++) {
    const tooLarge = thrownBy('00000065', at, { maxFrameBytes: 100 });
    assert.equal(tooLarge.code, 'SB_ERR_FRAME_TOO_LARGE');
    assert.equal(tooLarge.size, 101);
    assert.equal(tooLarge.maxFrameBytes, 100);
    assert.equal(thrownBy('7fffffff', at, { maxFrameBytes: 100 }).code, 'SB_ERR_FRAME_TOO_LARGE');
    const negative = thrownBy('fffffffe', at, { maxFrameBytes: 100 });
    assert.equal(negative.code, 'SB_ERR_PROTOCOL');
    assert.equal(negative.size, -2);
    assert.equal(thrownBy('80000000', at, { maxFrameBytes: 100 }).size, -0x80000000);
    assert.equal(thrownBy('00000003', at, { maxFrameBytes: 100, minFrameBytes: 4 }).code, 'SB_ERR_PROTOCOL');
  }
});

test('a size equal to the maximum is accepted and waits for its body', () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 100 });
  decoder.push(Buffer.from('00000064', 'hex'));
  assert.equal(decoder.next(), null);
  decoder.push(Buffer.alloc(100, 9));
  assert.deepEqual(decoder.next(), Buffer.alloc(100, 9));
});

test('clear drops a partial frame', () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 100 });
  decoder.push(Buffer.from('0000000a0102', 'hex'));
  assert.equal(decoder.bufferedBytes, 6);
  decoder.clear();
  assert.equal(decoder.bufferedBytes, 0);
  decoder.push(prefixed(Buffer.from('ok')));
  assert.equal(decoder.next()!.toString(), 'ok');
});
