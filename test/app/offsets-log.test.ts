// Goal: the group coordinator's store on a `__consumer_offsets` partition replays the records it
// appended, batch by batch, with transaction markers written to the same partition as markers (they
// hold no group records and would not decode as one), and writes a transactional append as a
// transactional batch of the producer that the partition counts as an open transaction. On a lone
// broker an append asks for its own fsync unless it asks only to be visible (storage.syncInterval).
// Compaction of the partition removes the markers of transactions that have nothing left, never one
// whose records are still there: a replay meets no transactional batch without its marker and gives
// the same offsets as before.
// Method: a partition over the real storage log in a temporary folder; records appended through the
// store, markers through Partition.writeTxnMarker, then a replay; compaction as log maintenance runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Log } from '../../src/storage/log.ts';
import { PortableDisk } from '../../src/io/real/portable-disk.ts';
import { realClock } from '../../src/io/real/real-clock.ts';
import { Partition } from '../../src/replication/partition.ts';
import { PartitionOffsetsLog } from '../../src/app/offsets-log.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { compactPartition } from '../../src/app/log-maintenance.ts';
import { GroupStore } from '../../src/groups/group-store.ts';
import type { LogOptions } from '../../src/storage/log-options.ts';
import { isControlBatch, isTransactionalBatch } from '../../src/protocol/kafka/record-batch/index.ts';

/** Runs `body` on a store over a fresh `__consumer_offsets` partition log in a temporary folder. */
async function withStore(body: (store: PartitionOffsetsLog, partition: Partition) => Promise<void>, options: Partial<LogOptions> = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-offsets-log-'));
  const log = await Log.open(dir, { ioMode: 'buffered', syncIntervalMs: 1000, preallocateBytes: 0, ...options }, new PortableDisk('test'), realClock);
  try {
    const partition = new Partition('__consumer_offsets', 0, log, { strictDurability: false, leaderEpoch: 0 });
    await body(new PartitionOffsetsLog(partition, () => 1000), partition);
  } finally {
    await log.close();
  }
}

test('replay yields transaction markers as such, between the records', () =>
  withStore(async (store, partition) => {
    await store.append([{ key: Buffer.from('k1'), value: Buffer.from('v1') }]);
    const marker = await partition.writeTxnMarker({ producerId: 3n, producerEpoch: 0, commit: false, coordinatorEpoch: 0, timestampMs: 1000 });
    await marker.visible;
    await store.append([{ key: Buffer.from('k2'), value: null }]);
    const replayed: string[] = [];
    for await (const e of store.replay()) {
      if (e.kind === 'marker') replayed.push(`marker ${e.producerId} ${e.commit ? 'commit' : 'abort'}`);
      else for (const r of e.records) replayed.push(`${r.key.toString()}=${r.value?.toString() ?? null}`);
    }
    assert.deepEqual(replayed, ['k1=v1', 'marker 3 abort', 'k2=null']);
  }));

test('a transactional append is one transactional batch of the producer, open on the partition until its marker', () =>
  withStore(async (store, partition) => {
    await store.append([{ key: Buffer.from('a'), value: Buffer.from('1') }]);
    // Twice with the same producer and epoch: no sequence numbers, so the partition's idempotence
    // checks (skipped for the coordinator's batches) cannot refuse the second one as out of order.
    await store.append([{ key: Buffer.from('b'), value: Buffer.from('2') }, { key: Buffer.from('c'), value: Buffer.from('3') }], { producerId: 9n, producerEpoch: 2 });
    await store.append([{ key: Buffer.from('d'), value: Buffer.from('4') }], { producerId: 9n, producerEpoch: 2 });
    assert.equal(partition.lastStableOffset, 1, 'the transaction opened at its first batch holds the last stable offset');
    const marker = await partition.writeTxnMarker({ producerId: 9n, producerEpoch: 2, commit: true, coordinatorEpoch: 0, timestampMs: 1000 });
    await marker.visible;
    assert.equal(partition.lastStableOffset, partition.highWatermark);
    const replayed: string[] = [];
    for await (const e of store.replay()) {
      if (e.kind === 'marker') replayed.push(`marker ${e.producerId}/${e.producerEpoch} ${e.commit ? 'commit' : 'abort'}`);
      else replayed.push(`${e.transaction === null ? 'plain' : `txn ${e.transaction.producerId}/${e.transaction.producerEpoch}`}: ${e.records.map((r) => r.key.toString()).join(',')}`);
    }
    assert.deepEqual(replayed, ['plain: a', 'txn 9/2: b,c', 'txn 9/2: d', 'marker 9/2 commit']);
  }));

test('alone, a durable append is fsynced before it resolves; a visible one is left to the periodic sync', () =>
  withStore(async (store, partition) => {
    let syncs = 0;
    const log = partition.log;
    const sync = log.sync.bind(log);
    log.sync = () => (syncs++, sync());
    await store.append([{ key: Buffer.from('a'), value: Buffer.from('1') }], undefined, 'visible');
    assert.equal(syncs, 0);
    await store.append([{ key: Buffer.from('b'), value: Buffer.from('2') }]);
    assert.equal(syncs, 1);
    assert.equal(log.durableOffset, 2, 'the durable append made the one before it durable too');
  }));

test('a store refuses to append once its partition is led in another epoch than the one it was made in (its coordinator was replaced)', () =>
  withStore(async (store, partition) => {
    await store.append([{ key: Buffer.from('a'), value: Buffer.from('1') }]);
    let epoch = 0;
    Object.defineProperty(partition, 'leaderEpoch', { get: () => epoch });
    epoch = 1;
    await assert.rejects(store.append([{ key: Buffer.from('b'), value: Buffer.from('2') }]), (e: unknown) => isStreamBusError(e, 'SB_ERR_NOT_LEADER'));
    assert.equal(partition.logEndOffset, 1, 'nothing appended');
    const fresh = new PartitionOffsetsLog(partition, () => 1000);
    await fresh.append([{ key: Buffer.from('c'), value: Buffer.from('3') }]);
    assert.equal(partition.logEndOffset, 2, 'a store made under the new epoch appends');
  }));

test('compaction removes the markers of emptied transactions only: replay finds no orphan transactional batch and the same offsets', () =>
  withStore(
    async (store, partition) => {
      const groups = new GroupStore(store);
      const commit = (offsets: Array<[number, number]>, producerId?: bigint) =>
        groups.storeOffsets('g', offsets.map(([p, offset]) => ({ topic: 't', partition: p, committed: { offset: BigInt(offset), leaderEpoch: -1, metadata: '', commitTimestampMs: 1000 } })), producerId === undefined ? undefined : { producerId, producerEpoch: 0 });
      const marker = async (producerId: bigint, commit: boolean) => {
        const m = await partition.writeTxnMarker({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 0, timestampMs: 1000 });
        await m.visible;
        return m.offset;
      };
      await commit([[0, 10]], 5n);
      const supersededCommit = await marker(5n, true);
      await commit([[0, 20]]);
      await commit([[1, 11]], 6n);
      const abort = await marker(6n, false);
      await commit([[2, 12], [3, 13]], 7n);
      const partlyKept = await marker(7n, true);
      await commit([[2, 22]]);
      await commit([[4, 14]], 5n);
      await marker(5n, true);
      await commit([[5, 15]], 6n);
      await marker(6n, true);
      for (let i = 0; i < 30; i++) await commit([[100 + i, i]]);

      const replayed = async () => {
        const state = await new GroupStore(store).replay();
        const offsets = [...(state.offsets.get('g')?.get('t') ?? new Map())].map(([p, o]) => [p, Number(o.offset)]).sort((a, b) => a[0]! - b[0]!);
        return { offsets: offsets.filter(([p]) => p! < 100), pending: state.pending.producerCount };
      };
      const expected = { offsets: [[0, 20], [2, 22], [3, 13], [4, 14], [5, 15]], pending: 0 };
      assert.deepEqual(await replayed(), expected);

      const t = Date.now();
      await compactPartition(partition, t);
      await compactPartition(partition, t + 10);
      const removed = await compactPartition(partition, t + 1010);
      assert.equal(removed.markersRemoved, 2);
      const markers: number[] = [];
      const openBatches = new Set<bigint>();
      for await (const { header } of partition.batches(partition.logStartOffset)) {
        if (isControlBatch(header.attributes)) {
          markers.push(Number(header.baseOffset));
          openBatches.delete(header.producerId);
        } else if (isTransactionalBatch(header.attributes)) {
          openBatches.add(header.producerId);
        }
      }
      assert.ok(!markers.includes(supersededCommit) && !markers.includes(abort), `markers left: ${markers.join(',')}`);
      assert.ok(markers.includes(partlyKept), 'the marker of a transaction with a record left stays');
      assert.equal(openBatches.size, 0, 'every transactional batch left is followed by its marker');
      assert.deepEqual(await replayed(), expected, 'replay of the compacted log');
    },
    { segmentBytes: 2048, cleanupPolicy: 'compact', deleteRetentionMs: 1000 },
  ));
