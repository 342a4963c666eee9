// Goal: the group coordinator's store on a `__consumer_offsets` partition replays the records it
// appended, batch by batch, with transaction markers written to the same partition as markers (they
// hold no group records and would not decode as one), and writes a transactional append as a
// transactional batch of the producer that the partition counts as an open transaction. On a lone
// broker an append asks for its own fsync unless it asks only to be visible (storage.syncInterval).
// Method: a partition over the real storage log in a temporary folder; records appended through the
// store, markers through Partition.writeTxnMarker, then a replay.
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

/** Runs `body` on a store over a fresh `__consumer_offsets` partition log in a temporary folder. */
async function withStore(body: (store: PartitionOffsetsLog, partition: Partition) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-offsets-log-'));
  const log = await Log.open(dir, { ioMode: 'buffered', syncIntervalMs: 1000, preallocateBytes: 0 }, new PortableDisk('test'), realClock);
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
