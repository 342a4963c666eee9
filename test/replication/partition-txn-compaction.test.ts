// Goal: compaction of a single broker's compacted partition removes the markers of transactions that
// have nothing left in the log (after their delete horizon), and that never changes what read_committed
// readers see, the last stable offset, or the transactions a restart rebuilds: the aborted list
// loses exactly the transactions whose abort marker went (a stale entry would hide the producer's
// later records), the checkpoint says so before any marker leaves the files, and a clean restart and a
// kill both come back with the same LSO, aborted list, open transaction and read_committed records.
// Method: a Partition over the real storage Log (portable disk, small segments, delete.retention.ms 1 s),
// keyed transactional batches and markers through the partition, compactPartition (what log maintenance
// runs) at chosen times; read_committed is read as a Kafka consumer reads it (aborted list and markers).
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
import {
  ControlType,
  buildRecordBatch,
  isControlBatch,
  isTransactionalBatch,
  readBatchHeader,
  readControlMarker,
  readRecords,
  splitBatches,
} from '../../src/protocol/kafka/record-batch/index.ts';

const disk = new PortableDisk('test');
const options = { ioMode: 'buffered' as const, syncIntervalMs: 1000, preallocateBytes: 0, segmentBytes: 2048, cleanupPolicy: 'compact' as const, deleteRetentionMs: 1000 };
const open = (dir: string) => Log.open(dir, options, disk, realClock);
const over = (log: Log) => new Partition('t', 0, log, { strictDurability: false, leaderEpoch: 0 });

const sequences = new Map<bigint, number>();
async function txn(p: Partition, producerId: bigint, key: string): Promise<number> {
  const baseSequence = sequences.get(producerId) ?? 0;
  sequences.set(producerId, baseSequence + 1);
  const batch = buildRecordBatch([{ key: Buffer.from(key), value: Buffer.from(`${key} by ${producerId} ${'x'.repeat(80)}`) }], { transactional: true, producerId, producerEpoch: 0, baseSequence });
  const result = await p.append(batch, { producerId, producerEpoch: 0, baseSequence, lastOffsetDelta: 0 }, 1);
  assert.equal(result.kind, 'appended');
  return result.kind === 'appended' ? result.baseOffset : -1;
}

async function plain(p: Partition, key: string): Promise<number> {
  const result = await p.append(buildRecordBatch([{ key: Buffer.from(key), value: Buffer.from(`${key} ${'y'.repeat(80)}`) }]), null, 1);
  assert.equal(result.kind, 'appended');
  return result.kind === 'appended' ? result.baseOffset : -1;
}

async function marker(p: Partition, producerId: bigint, commit: boolean): Promise<number> {
  const { offset, visible } = await p.writeTxnMarker({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 0, timestampMs: 5 });
  await visible;
  return offset;
}

/** Every batch from the log start, below the high watermark (`committedOnly`: the LSO), in order. */
async function allBatches(p: Partition, committedOnly = false): Promise<Array<{ batch: Buffer; base: number }>> {
  const out: Array<{ batch: Buffer; base: number }> = [];
  const bound = committedOnly ? p.lastStableOffset : p.highWatermark;
  for (let offset = p.logStartOffset, i = 0; offset < bound && i < 1000; i++) {
    const read = await p.read(offset, 1 << 20, committedOnly);
    if (read.buffers.length === 0) break;
    for (const chunk of read.buffers) for (const { start, end } of splitBatches(chunk)) out.push({ batch: chunk.subarray(start, end), base: Number(readBatchHeader(chunk, start).baseOffset) });
    offset = read.nextOffset;
  }
  return out;
}

/** What a Kafka read_committed consumer reading from the log start returns: "offset key" lines. */
async function readCommitted(p: Partition): Promise<string[]> {
  const aborted = p.abortedTransactions(p.logStartOffset, p.lastStableOffset).sort((a, b) => a.firstOffset - b.firstOffset);
  const abortedProducers = new Set<bigint>();
  const out: string[] = [];
  for (const { batch } of await allBatches(p, true)) {
    const h = readBatchHeader(batch);
    const base = Number(h.baseOffset);
    while (aborted.length > 0 && aborted[0]!.firstOffset <= base + h.lastOffsetDelta) abortedProducers.add(aborted.shift()!.producerId);
    if (isControlBatch(h.attributes)) {
      if (readControlMarker(readRecords(batch)[0]!).type === ControlType.abort) abortedProducers.delete(h.producerId);
      continue;
    }
    if (isTransactionalBatch(h.attributes) && abortedProducers.has(h.producerId)) continue;
    for (const r of readRecords(batch)) out.push(`${base + r.offsetDelta} ${r.key}`);
  }
  return out;
}

const facts = (p: Partition) => ({ lso: p.lastStableOffset, hw: p.highWatermark, aborted: p.abortedTransactions(0, p.highWatermark), open: p.transactions.toState().open });

test('markers of emptied transactions go; read_committed, the LSO and a restart (clean or killed) stay right', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-txn-compaction-'));
  try {
    const log = await open(dir);
    const p = over(log);
    await plain(p, 'a');
    const abortedData = await txn(p, 7n, 'a');
    const abortMarker = await marker(p, 7n, false);
    const supersededData = await txn(p, 8n, 'b');
    const supersededCommit = await marker(p, 8n, true);
    await plain(p, 'b');
    await txn(p, 9n, 'c');
    const keptCommit = await marker(p, 9n, true);
    // Producers 7 and 8 write again later: their first markers are not their last batches.
    await txn(p, 7n, 'e');
    const lastOf7 = await marker(p, 7n, true);
    await txn(p, 8n, 'f');
    const lastOf8 = await marker(p, 8n, true);
    for (let i = 0; i < 20; i++) await plain(p, `pad${i}`);
    const openAt = await txn(p, 11n, 'open');
    await plain(p, 'after');
    // A checkpoint from before compaction: it lists producer 7's abort, which must not come back.
    await p.saveTransactions();
    const before = facts(p);
    assert.equal(before.lso, openAt, 'producer 11 holds the LSO');
    assert.deepEqual(before.aborted, [{ producerId: 7n, firstOffset: abortedData, lastOffset: abortMarker }]);
    const committedBefore = await readCommitted(p);
    assert.ok(!committedBefore.includes(`${abortedData} a`), 'the aborted record is never read');

    // Pass 1 removes the aborted record and the superseded b; pass 2 stamps the markers left alone;
    // after the delete horizon pass 3 removes them.
    const t = Date.now();
    assert.equal((await compactPartition(p, t)).recordsRemoved, 2);
    const committed = await readCommitted(p);
    assert.deepEqual(committed, committedBefore.filter((line) => line !== `${supersededData} b`), 'only the superseded committed b went');
    assert.equal((await compactPartition(p, t + 10)).markersRemoved, 0);
    assert.deepEqual(facts(p), before, 'stamping changes nothing');
    const removed = await compactPartition(p, t + 10 + 1000);
    assert.equal(removed.markersRemoved, 2);
    const bases = (await allBatches(p)).map((b) => b.base);
    assert.ok(!bases.includes(abortMarker) && !bases.includes(supersededCommit), `markers gone: ${bases.join(',')}`);
    assert.ok([keptCommit, lastOf7, lastOf8].every((o) => bases.includes(o)), 'a marker with records left, and the last batches of active producers, stay');
    const after = { ...before, aborted: [] };
    assert.deepEqual(facts(p), after, 'the LSO stays; the abort whose marker went leaves the aborted list');
    assert.deepEqual(await readCommitted(p), committed, 'read_committed reads the same records');
    assert.ok(p.transactionsCheckpointedAt > abortMarker, 'checkpointed before the markers went');

    // A kill right after: the checkpoint written before the removal is the starting point.
    await log.close({ clean: false });
    const killed = await open(dir);
    const q = over(killed);
    await q.rebuildProducerState(1 << 30);
    assert.equal(await q.rebuildTransactions(), p.transactionsCheckpointedAt);
    assert.deepEqual(facts(q), after, 'after a kill');
    assert.deepEqual(await readCommitted(q), committed);
    await compactPartition(q, t + 5000);
    assert.deepEqual(facts(q), after, 'compacting again changes nothing');
    await q.saveTransactions();
    await killed.close();

    const clean = await open(dir);
    const r = over(clean);
    await r.rebuildTransactions();
    assert.deepEqual(facts(r), after, 'after a clean stop');
    assert.deepEqual(await readCommitted(r), committed);
    // Without any checkpoint the whole log is scanned: the same again.
    await clean.removeSideFile('transactions.checkpoint');
    const s = over(clean);
    assert.equal(await s.rebuildTransactions(), 0);
    assert.deepEqual(facts(s), after, 'from a scan of the compacted log');
    // The open transaction is still there to be decided.
    await s.rebuildProducerState(1 << 30);
    await marker(s, 11n, true);
    assert.equal(s.lastStableOffset, s.highWatermark);
    await clean.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
