// Goal: partition hosting stops with the broker: after stop() nothing more is opened or removed, and
// opens that were under way and fail because the Raft host stopped are not logged as errors (an
// operator stopping a broker should not read "partition offline" errors); before stop() a failed open
// is an error.
// Method: PartitionHosting over a fake metadata state and a fake partition manager whose opens wait
// until the test releases them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionHosting } from '../../src/replication/partition-hosting.ts';
import type { MetadataService } from '../../src/replication/metadata-service.ts';
import type { PartitionManager } from '../../src/replication/partition-manager.ts';
import type { TopicRecord } from '../../src/metadata/cluster-state.ts';

function fixture(topics: { name: string; partitions: number }[]) {
  const lines: { level: 'info' | 'error'; message: string }[] = [];
  const opened: string[] = [];
  const pending: (() => void)[] = [];
  let failOpens = false;
  const partitions = {
    indexesOf: () => [],
    topicNames: () => [],
    removePartition: async () => undefined,
    removeTopic: async () => undefined,
    openIndexes: (topic: string, indexes: readonly number[]) =>
      new Promise<{ index: number; error: unknown }[]>((resolve) => {
        pending.push(() => {
          if (failOpens) resolve(indexes.map((index) => ({ index, error: new Error('the multi-raft host is stopped') })));
          else {
            opened.push(...indexes.map((i) => `${topic}-${i}`));
            resolve([]);
          }
        });
      }),
  } as unknown as PartitionManager;
  const metadata = { state: { topics: () => topics as unknown as TopicRecord[] } } as unknown as MetadataService;
  const hosting = new PartitionHosting({
    metadata,
    partitions,
    hosts: () => true,
    settings: () => ({}) as never,
    log: { info: (_f, message) => lines.push({ level: 'info', message }), error: (_f, message) => lines.push({ level: 'error', message }) },
  });
  const release = async () => {
    while (pending.length === 0) await new Promise((r) => setImmediate(r));
    pending.shift()!();
  };
  return { hosting, lines, opened, release, failWith: () => (failOpens = true) };
}

test('a stop during an open: the failed open is said at info, nothing after it is opened', async () => {
  const f = fixture([{ name: 'a', partitions: 2 }, { name: 'b', partitions: 1 }]);
  const run = f.hosting.reconcile();
  f.failWith();
  f.hosting.stop();
  await f.release();
  await run;
  assert.deepEqual(f.lines, [{ level: 'info', message: 'partitions not opened: the broker is stopping' }]);
  await f.hosting.reconcile();
  assert.deepEqual(f.opened, [], 'topic b was not opened after the stop');
});

test('without a stop, every topic is opened and a failed open is an error', async () => {
  const f = fixture([{ name: 'a', partitions: 2 }, { name: 'b', partitions: 1 }]);
  const run = f.hosting.reconcile();
  await f.release();
  f.failWith();
  await f.release();
  await run;
  assert.deepEqual(f.opened, ['a-0', 'a-1']);
  assert.deepEqual(f.lines.map((l) => `${l.level} ${l.message}`), ['info partitions hosted here opened', 'error partition offline', 'info partitions hosted here opened']);
});
