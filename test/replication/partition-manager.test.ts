// Goal: a partition is opened once even when two opens of its topic overlap (a topic growing while
// it is still being created): the second waits for the first instead of opening, or wiping, the same
// files again, and no partition is reported offline for it.
// Method: a log factory whose opens and removals wait on the test; it records every call and fails
// an open of a partition whose files are already open or were wiped while it opened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionManager, type LogFactory, type LogSettings } from '../../src/replication/partition-manager.ts';
import type { PartitionLog } from '../../src/replication/partition-log.ts';

const SETTINGS: LogSettings = { segmentBytes: 1 << 20, segmentMs: 60_000, retentionMs: -1, retentionBytes: -1, compact: false, deleteRetentionMs: 0, maxMessageBytes: 1 << 20 };

class SlowLogs implements LogFactory {
  readonly calls: string[] = [];
  private readonly opened = new Set<string>();
  private readonly opening = new Set<string>();

  async open(topic: string, partition: number): Promise<PartitionLog> {
    const name = `${topic}-${partition}`;
    this.calls.push(`open ${name}`);
    if (this.opened.has(name) || this.opening.has(name)) throw new Error(`${name} opened twice`);
    this.opening.add(name);
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (!this.opening.has(name)) throw new Error(`${name} was wiped while it opened`);
    this.opening.delete(name);
    this.opened.add(name);
    return { logStartOffset: 0, endOffset: 0, writtenOffset: 0, sizeBytes: 0, segmentBaseOffsets: () => [], readSideFile: async () => undefined } as unknown as PartitionLog;
  }

  reconfigure(): void {}

  async remove(topic: string, partition: number): Promise<void> {
    const name = `${topic}-${partition}`;
    this.calls.push(`remove ${name}`);
    this.opened.delete(name);
    this.opening.delete(name);
  }

  async close(): Promise<void> {}
}

test('overlapping opens of a topic open each partition once and leave none offline', async () => {
  const logs = new SlowLogs();
  const manager = new PartitionManager(logs, false);
  // A creation (fresh: leftovers wiped first) and a growth to three partitions, at the same time.
  const [created, grown] = await Promise.all([manager.open('t', 2, SETTINGS, true), manager.openIndexes('t', [0, 1, 2], SETTINGS, false)]);
  assert.deepEqual(created, []);
  assert.deepEqual(grown, []);
  assert.deepEqual([0, 1, 2].map((i) => manager.offlineReason('t', i)), [null, null, null]);
  assert.deepEqual([0, 1, 2].map((i) => manager.get('t', i) !== undefined), [true, true, true]);
  assert.deepEqual(logs.calls.filter((c) => c.startsWith('open')).sort(), ['open t-0', 'open t-1', 'open t-2']);
});
