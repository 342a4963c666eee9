// Goal: compaction of a single broker's compacted partition keeps the last data batch of each
// idempotent producer whose state is kept (emptied when all its records are superseded), as Kafka's
// cleaner does, so that a restart rebuilds the producer's sequence from the log and a retry of its
// latest write is still answered as a duplicate instead of being appended a second time. Producers whose
// state expired lose their batches like anyone else's.
// Method: a Partition over the real storage Log (small segments), idempotent and plain keyed batches,
// compactPartition (what log maintenance runs), then a restart (a new Partition over the reopened log,
// producer state rebuilt as the broker rebuilds it) and the producer's retry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Log } from '../../src/storage/log.ts';
import { PortableDisk } from '../../src/io/real/portable-disk.ts';
import { realClock } from '../../src/io/real/real-clock.ts';
import { Partition } from '../../src/replication/partition.ts';
import { compactPartition } from '../../src/app/log-maintenance.ts';
import { buildRecordBatch, readBatchHeader, splitBatches } from '../../src/protocol/kafka/record-batch/index.ts';

const disk = new PortableDisk('test');
const options = { ioMode: 'buffered' as const, syncIntervalMs: 1000, preallocateBytes: 0, segmentBytes: 2048, cleanupPolicy: 'compact' as const, deleteRetentionMs: 1000 };
const open = (dir: string) => Log.open(dir, options, disk, realClock);
const over = (log: Log) => new Partition('t', 0, log, { strictDurability: false, leaderEpoch: 0 });

const PRODUCER = 42n;
const idempotentBatch = (key: string, baseSequence: number) =>
  buildRecordBatch([{ key: Buffer.from(key), value: Buffer.from(`${key} seq ${baseSequence} ${'x'.repeat(80)}`) }], { producerId: PRODUCER, producerEpoch: 0, baseSequence });
const fields = (baseSequence: number) => ({ producerId: PRODUCER, producerEpoch: 0, baseSequence, lastOffsetDelta: 0 });

async function idempotent(p: Partition, key: string, baseSequence: number): Promise<number> {
  const result = await p.append(idempotentBatch(key, baseSequence), fields(baseSequence), Date.now());
  assert.equal(result.kind, 'appended');
  if (result.kind !== 'appended') return -1;
  await result.visible;
  return result.baseOffset;
}

async function plain(p: Partition, key: string): Promise<void> {
  const result = await p.append(buildRecordBatch([{ key: Buffer.from(key), value: Buffer.from(`${key} ${'y'.repeat(80)}`) }]), null, Date.now());
  assert.equal(result.kind, 'appended');
  if (result.kind === 'appended') await result.visible;
}

/** Every batch's base offset, producer id, base sequence and record count, in order. */
async function batches(p: Partition): Promise<Array<{ base: number; producerId: bigint; baseSequence: number; records: number }>> {
  const out: Array<{ base: number; producerId: bigint; baseSequence: number; records: number }> = [];
  for (let offset = p.logStartOffset, i = 0; offset < p.highWatermark && i < 1000; i++) {
    const read = await p.read(offset, 1 << 20, false);
    if (read.buffers.length === 0) break;
    for (const chunk of read.buffers) {
      for (const { start } of splitBatches(chunk)) {
        const h = readBatchHeader(chunk, start);
        out.push({ base: Number(h.baseOffset), producerId: h.producerId, baseSequence: h.baseSequence, records: h.recordsCount });
      }
    }
    offset = read.nextOffset;
  }
  return out;
}

/** Writes two idempotent batches of key x, supersedes them with a plain one, and seals them away from the active segment. */
async function fill(p: Partition): Promise<{ first: number; last: number }> {
  const first = await idempotent(p, 'x', 0);
  const last = await idempotent(p, 'x', 1);
  await plain(p, 'x');
  for (let i = 0; i < 20; i++) await plain(p, `pad${i}`);
  // Compaction rewrites sealed segments only: a segment seals once its bytes are durable.
  await p.log.sync();
  return { first, last };
}

/** Runs `body` on a filled partition in a fresh folder (removed afterwards); `body` closes the log. */
async function inFilledPartition(body: (dir: string, log: Log, p: Partition, written: { first: number; last: number }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-idem-compaction-'));
  try {
    const log = await open(dir);
    const p = over(log);
    await body(dir, log, p, await fill(p));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the last batch of a kept idempotent producer survives compaction emptied, so a retry after a restart is a duplicate', () =>
  inFilledPartition(async (dir, log, p, { first, last }) => {
    const result = await compactPartition(p, Date.now());
    assert.equal(result.recordsRemoved, 2, 'both superseded records of x go');
    const after = await batches(p);
    assert.ok(!after.some((b) => b.base === first), 'the producer\'s earlier batch goes');
    assert.deepEqual(after.find((b) => b.base === last), { base: last, producerId: PRODUCER, baseSequence: 1, records: 0 }, 'its last batch stays as an empty batch');
    await log.close();

    const reopened = await open(dir);
    try {
      const q = over(reopened);
      await q.rebuildProducerState(1 << 30);
      const retry = await q.append(idempotentBatch('x', 1), fields(1), Date.now());
      assert.equal(retry.kind, 'duplicate', 'the retry of sequence 1 is recognised');
      if (retry.kind === 'duplicate') assert.equal(retry.baseOffset, last);
      const next = await q.append(idempotentBatch('x', 2), fields(2), Date.now());
      assert.equal(next.kind, 'appended', 'the next sequence goes on');
      const gap = await q.append(idempotentBatch('x', 9), fields(9), Date.now());
      assert.equal(gap.kind, 'out-of-order', 'a gap in the sequence is still refused');
    } finally {
      await reopened.close();
    }
  }));

test('an expired producer keeps nothing: its superseded batches all go', () =>
  inFilledPartition(async (_dir, log, p, { first, last }) => {
    // Long idle: the producer's state is dropped, as log maintenance expires it.
    assert.equal(p.producers.expire(Date.now() + 10_000, 1), 1);
    await compactPartition(p, Date.now());
    const bases = (await batches(p)).map((b) => b.base);
    assert.ok(!bases.includes(first) && !bases.includes(last), `no batch of the expired producer is left: ${bases.join(',')}`);
    await log.close();
  }));
