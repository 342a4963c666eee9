// Goal: any sequence of appends, reads, rolls, truncations, log-start moves, syncs and reopens (clean
// or not) leaves the log equal to a simple model: a list of batches with offsets, and a start offset.
// Method: fast-check commands over both backends, tiny segments so that rolls are frequent, a manual
// clock to roll by time; after every command the whole log is read back and compared with the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Disk } from '../../src/io/disk.ts';
import { batchSizeAt, readBaseOffset, readLastOffset } from '../../src/protocol/kafka/record-batch/header.ts';
import { Log } from '../../src/storage/log.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { backends, sizedBatch, tempDir } from './helpers.ts';

type Op =
  | { kind: 'append'; count: number; bytes: number }
  | { kind: 'read'; pick: number; maxBytes: number }
  | { kind: 'time'; ms: number }
  | { kind: 'truncate'; pick: number }
  | { kind: 'advance'; pick: number }
  | { kind: 'sync' }
  | { kind: 'reopen'; clean: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 4 }), bytes: fc.integer({ min: 1, max: 1500 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const), pick: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), maxBytes: fc.integer({ min: 0, max: 5000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), pick: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), pick: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const), clean: fc.boolean() }) },
);

interface ModelBatch {
  base: number;
  last: number;
  bytes: Buffer;
}

const opts = { segmentBytes: 4096, segmentMs: 2000, indexIntervalBytes: 300, preallocateBytes: 8192, syncIntervalMs: 0, tailCacheBytes: 3000 };

function splitBatches(buffers: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const b of buffers) for (let at = 0; at < b.length; at += batchSizeAt(b, at)) out.push(b.subarray(at, at + batchSizeAt(b, at)));
  return out;
}

async function check(log: Log, model: ModelBatch[], start: number): Promise<void> {
  const end = model.length ? model[model.length - 1]!.last + 1 : undefined;
  if (end !== undefined) assert.equal(log.endOffset, end);
  assert.equal(log.logStartOffset, start);
  const visible = model.filter((b) => b.last >= start);
  const got: Buffer[] = [];
  let offset = start;
  while (offset < log.endOffset) {
    const r = await log.read(offset, 2000);
    assert.ok(r.buffers.length > 0, `nothing at ${offset}`);
    got.push(...splitBatches(r.buffers));
    offset = r.nextOffset;
  }
  assert.equal(got.length, visible.length);
  got.forEach((b, i) => {
    assert.equal(readBaseOffset(b, 0), visible[i]!.base);
    assert.ok(b.equals(visible[i]!.bytes), `batch ${visible[i]!.base} differs`);
  });
}

async function run(disk: Disk, ops: Op[]): Promise<void> {
  const dir = tempDir('sb-prop-');
  const clock = new ManualClock();
  let log = await Log.open(dir.path, opts, disk, clock);
  const model: ModelBatch[] = [];
  let start = 0;
  let seed = 0;
  try {
    for (const op of ops) {
      const end = log.endOffset;
      switch (op.kind) {
        case 'append': {
          const b = sizedBatch(op.count, op.bytes, seed++);
          const r = log.append(b, { leaderEpoch: 5 });
          model.push({ base: r.baseOffset, last: r.lastOffset, bytes: Buffer.from(b) });
          break;
        }
        case 'read': {
          if (end <= start) break;
          const offset = start + Math.floor(op.pick * (end - start));
          await log.waitWritten(end - 1);
          const r = await log.read(offset, op.maxBytes);
          const batches = splitBatches(r.buffers);
          const expected = model.filter((m) => m.last >= offset);
          assert.ok(batches.length >= 1, 'at least one batch');
          assert.equal(readBaseOffset(batches[0]!, 0), expected[0]!.base);
          batches.forEach((b, i) => assert.ok(b.equals(expected[i]!.bytes)));
          assert.equal(r.nextOffset, readLastOffset(batches.at(-1)!, 0) + 1);
          assert.ok(batches.length === 1 || r.sizeBytes <= op.maxBytes, 'budget respected beyond the first batch');
          break;
        }
        case 'time':
          clock.advance(op.ms);
          break;
        case 'truncate': {
          if (end <= start + 1) break;
          const offset = start + 1 + Math.floor(op.pick * (end - start - 1));
          await log.truncateTo(offset);
          while (model.length && model[model.length - 1]!.last >= offset) model.pop();
          // The batch holding `offset` goes whole; the end is the first removed batch's base.
          start = Math.min(start, log.endOffset);
          break;
        }
        case 'advance': {
          const offset = start + Math.floor(op.pick * (end - start + 1));
          await log.advanceLogStart(offset);
          start = Math.max(start, offset);
          break;
        }
        case 'sync':
          await log.sync();
          assert.equal(log.durableOffset, log.endOffset);
          break;
        case 'reopen':
          await log.close({ clean: op.clean });
          log = await Log.open(dir.path, opts, disk, clock);
          break;
      }
      if (log.endOffset > 0) await log.waitWritten(log.endOffset - 1);
      await check(log, model, start);
    }
  } finally {
    await log.close();
    dir.remove();
  }
}

for (const { name, disk } of backends()) {
  test(`${name}: random operation sequences match the model (property)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => run(disk, ops)),
      { numRuns: Number(process.env['STREAMBUS_PROPERTY_RUNS'] ?? 40) },
    );
  });
}
