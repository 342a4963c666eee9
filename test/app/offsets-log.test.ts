// Goal: the group coordinator's store on a `__consumer_offsets` partition replays the records it
// appended and skips transaction markers written to the same partition (WriteTxnMarkers may name
// any partition), which hold no group records and would not decode as one.
// Method: a partition over the real storage log in a temporary folder; records appended through the
// store, an abort marker through Partition.writeTxnMarker, then a replay.
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

test('replay skips transaction markers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-offsets-log-'));
  const log = await Log.open(dir, { ioMode: 'buffered', syncIntervalMs: 1000, preallocateBytes: 0 }, new PortableDisk('test'), realClock);
  try {
    const partition = new Partition('__consumer_offsets', 0, log, { strictDurability: false, leaderEpoch: 0 });
    const store = new PartitionOffsetsLog(partition, () => 1000);
    await store.append([{ key: Buffer.from('k1'), value: Buffer.from('v1') }]);
    const marker = await partition.writeTxnMarker({ producerId: 3n, producerEpoch: 0, commit: false, coordinatorEpoch: 0, timestampMs: 1000 });
    await marker.visible;
    await store.append([{ key: Buffer.from('k2'), value: null }]);
    const replayed: string[] = [];
    for await (const r of store.replay()) replayed.push(`${r.key.toString()}=${r.value?.toString() ?? null}`);
    assert.deepEqual(replayed, ['k1=v1', 'k2=null']);
  } finally {
    await log.close();
  }
});
