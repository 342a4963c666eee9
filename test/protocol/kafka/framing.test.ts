// Goal: the frame decoder yields whole frames however the bytes are split, without copying frames that
// arrive in one chunk, and rejects oversized or negative sizes as soon as the prefix is known.
// Method: split a stream of frames at every byte position; feed hostile prefixes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameDecoder, frameChunks } from '../../../src/protocol/kafka/framing.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

const frames = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello world'), Buffer.alloc(300, 3)];
const stream = Buffer.concat(frames.flatMap((f) => frameChunks([f])));

test('frames come out whole for every split point', () => {
  for (let split = 0; split <= stream.length; split++) {
    const d = new FrameDecoder(1024);
    const out: Buffer[] = [];
    for (const part of [stream.subarray(0, split), stream.subarray(split)]) {
      d.push(part);
      for (let f = d.next(); f !== null; f = d.next()) out.push(Buffer.from(f));
    }
    assert.deepEqual(out, frames, `split ${split}`);
    assert.equal(d.bufferedBytes, 0);
  }
});

test('a frame inside one chunk is a view, not a copy', () => {
  const d = new FrameDecoder(1024);
  d.push(stream);
  const f = d.next()!;
  assert.equal(f.buffer, stream.buffer);
});

test('oversized and negative prefixes fail before buffering the body', () => {
  const d = new FrameDecoder(100);
  d.push(Buffer.from('7fffffff', 'hex'));
  assert.throws(() => d.next(), (e) => isStreamBusError(e, 'SB_ERR_FRAME_TOO_LARGE'));
  const n = new FrameDecoder(100);
  n.push(Buffer.from('ffffffff', 'hex'));
  assert.throws(() => n.next(), (e) => isStreamBusError(e, 'SB_ERR_PROTOCOL'));
  const ok = new FrameDecoder(100);
  ok.push(Buffer.from('00000064', 'hex'));
  assert.equal(ok.next(), null);
});
