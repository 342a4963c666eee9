// Goal: three RaftDrivers over PartitionRaftLog stores replicate a partition: the leader proposes
// record batches stamped at its log end, and every replica's segment log ends up byte-identical at
// the same offsets, contiguous from 0 though elections add no-op entries; a follower that missed
// many entries catches up although the leader's small cache forces it to load them from its
// segment log (LogNotLoadedError, onLoaded, storageLoaded); and the group stopped as a whole comes
// back from disk, re-applies its committed entries through the same loading path, and continues.
// Method: real segment logs and Raft files in temp folders, messages delivered by hand between
// short sleeps while every node ticks (different election timeouts, so one campaigns first), as in
// file-raft-log-store-group.test.ts. Each wait is bounded in wall time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EntryType } from '../../src/raft/index.ts';
import type { Entry, Message, NodeId, Snapshot } from '../../src/raft/index.ts';
import { readRecords } from '../../src/protocol/kafka/record-batch/records.ts';
import { Log } from '../../src/storage/log.ts';
import { PartitionRaftLog } from '../../src/replication/partition-raft-log.ts';
import { decodePartitionSnapshotData } from '../../src/replication/partition-raft-files.ts';
import { RaftDriver, type SnapshotPolicy } from '../../src/replication/raft-driver.ts';
import type { RaftStateMachine } from '../../src/replication/raft-state-machine.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { tempDir } from '../storage/helpers.ts';
import { batch, partitionTestDisk, smallLog } from './partition-raft-log-helpers.ts';

const ids: NodeId[] = [1, 2, 3];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Small enough that a follower 40 batches behind cannot be served from memory. */
const CACHE_BYTES = 2048;

/** The record values of the applied data batches, in order. */
class ValuesMachine implements RaftStateMachine {
  values: string[] = [];
  apply(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.type !== EntryType.Normal || e.data.length === 0) continue;
      for (const r of readRecords(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength))) this.values.push(r.value!.toString());
    }
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.values));
  }
  restore(snapshot: Snapshot): void {
    const { ownerData } = decodePartitionSnapshotData(snapshot.data);
    this.values = ownerData.length === 0 ? [] : (JSON.parse(new TextDecoder().decode(ownerData)) as string[]);
  }
}

class PartitionGroup {
  readonly logs = new Map<NodeId, Log>();
  readonly stores = new Map<NodeId, PartitionRaftLog>();
  readonly drivers = new Map<NodeId, RaftDriver>();
  readonly machines = new Map<NodeId, ValuesMachine>();
  readonly loads = new Map<NodeId, number>();
  readonly failures: unknown[] = [];
  network: Message[] = [];
  /** Messages for which this returns true are lost. */
  drop: (m: Message) => boolean = () => false;

  constructor(
    private readonly root: string,
    private readonly snapshots?: SnapshotPolicy,
  ) {}

  async start(id: NodeId): Promise<void> {
    const dir = join(this.root, `node-${id}`);
    const log = await Log.open(dir, smallLog, partitionTestDisk, new ManualClock());
    const store = await PartitionRaftLog.open(log, dir, partitionTestDisk, {
      initialConfState: { voters: ids, learners: [] },
      cacheBytes: CACHE_BYTES,
      onLoaded: () => {
        this.loads.set(id, (this.loads.get(id) ?? 0) + 1);
        this.drivers.get(id)?.storageLoaded();
      },
    });
    const machine = new ValuesMachine();
    this.logs.set(id, log);
    this.stores.set(id, store);
    this.machines.set(id, machine);
    this.drivers.set(
      id,
      new RaftDriver({
        id,
        store,
        transport: { send: (_to, messages) => this.network.push(...messages) },
        stateMachine: machine,
        random: { nextInt: (bound) => Math.min(bound - 1, (id - 1) * 4) },
        settings: { preVote: false, maxMessageBytes: 1024 },
        ...(this.snapshots === undefined ? {} : { snapshots: this.snapshots }),
        onFailure: (error) => this.failures.push(error),
      }),
    );
  }

  async stopAll(): Promise<void> {
    for (const id of ids) this.drivers.get(id)?.stop();
    for (const id of ids) {
      await this.stores.get(id)?.close();
      await this.logs.get(id)?.close();
    }
    this.network = [];
  }

  /** The leader of the highest term (an isolated old leader may still think it leads). */
  leader(): RaftDriver | undefined {
    let best: RaftDriver | undefined;
    for (const d of this.drivers.values()) if (d.raft.isLeader && !d.stopped && (best === undefined || d.raft.term > best.raft.term)) best = d;
    return best;
  }

  async until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 8000;
    while (!done()) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      assert.deepEqual(this.failures, []);
      for (const d of this.drivers.values()) d.tick();
      for (let round = 0; round < 5; round++) {
        const messages = this.network;
        this.network = [];
        for (const m of messages) if (!this.drop(m)) this.drivers.get(m.to)?.step(m);
        await sleep(1);
      }
    }
  }

  /** Proposes `count` batches (1 to 3 records each) in groups of five stamped at the leader's log end. */
  async produce(prefix: string, count: number): Promise<void> {
    for (let done = 0; done < count; ) {
      await this.until(() => this.leader() !== undefined, 'a leader');
      const leader = this.leader()!;
      const store = this.stores.get(leader.raft.id)!;
      // Nothing of ours is pending (the last group applied), so the stored log end is the end.
      let offset = store.endOffsetAt(store.lastIndex());
      const batches: Buffer[] = [];
      for (let i = 0; i < 5 && done + i < count; i++) {
        const n = done + i;
        const values = Array.from({ length: 1 + (n % 3) }, (_, k) => `${prefix}${n}.${k}`);
        batches.push(batch(offset, leader.raft.term, values));
        offset += values.length;
      }
      let outcome: string | null = null;
      const result = leader.propose(batches, (o) => (outcome = o.kind));
      if (!result.accepted) continue;
      await this.until(() => outcome !== null, `batches from ${prefix}${done}`);
      if (outcome === 'applied') done += batches.length;
    }
  }

  /** The raw bytes of every batch in a node's segment log from `from` (default: its start), by offset. */
  async logBytes(id: NodeId, from?: number): Promise<string[]> {
    const log = this.logs.get(id)!;
    const out: string[] = [];
    let offset = from ?? log.logStartOffset;
    while (offset < log.endOffset) {
      const read = await log.read(offset, 1 << 20);
      out.push(...read.buffers.map((b) => `${read.firstOffset}:${b.toString('hex')}`));
      offset = read.nextOffset;
    }
    return out;
  }
}

test('three replicas over partition Raft logs hold byte-identical segment logs; a lagging follower catches up through async loads; a restart continues', async () => {
  const root = tempDir('sb-partgroup-');
  const group = new PartitionGroup(root.path);
  try {
    for (const id of ids) await group.start(id);
    await group.produce('a', 10);

    // Node 3 misses the next 40 batches.
    await group.until(() => group.leader() !== undefined, 'a leader');
    const isolated = ids.find((id) => id !== group.leader()!.raft.id && id === 3) ?? ids.find((id) => id !== group.leader()!.raft.id)!;
    group.drop = (m) => m.to === isolated || m.from === isolated;
    await group.produce('b', 40);
    const leaderId = group.leader()!.raft.id;
    const loadsBefore = group.loads.get(leaderId) ?? 0;
    group.drop = () => false;
    const end = () => group.logs.get(leaderId)!.endOffset;
    await group.until(() => ids.every((id) => group.logs.get(id)!.endOffset === end() && group.machines.get(id)!.values.length === end()), 'every replica to catch up');
    assert.ok((group.loads.get(leaderId) ?? 0) > loadsBefore, 'the leader loaded entries the follower missed from its segment log');

    const expected = group.machines.get(leaderId)!.values;
    assert.equal(expected.length, end(), 'offsets are contiguous from 0: one per produced record');
    const bytes = await group.logBytes(leaderId);
    for (const id of ids) {
      assert.deepEqual(group.machines.get(id)!.values, expected, `node ${id} applied the same records`);
      assert.deepEqual(await group.logBytes(id), bytes, `node ${id} holds the same batches at the same offsets`);
      assert.equal(group.logs.get(id)!.logStartOffset, 0);
    }

    // The whole group stops and comes back from disk; the re-applied entries come from the files.
    await group.stopAll();
    for (const id of ids) await group.start(id);
    await group.until(() => ids.every((id) => group.machines.get(id)!.values.length === expected.length), 'every node to re-apply its committed entries');
    await group.produce('c', 10);
    const final = () => group.logs.get(group.leader()!.raft.id)!.endOffset;
    await group.until(() => group.leader() !== undefined && ids.every((id) => group.machines.get(id)!.values.length === final()), 'every node to apply after the restart');
    const finalBytes = await group.logBytes(group.leader()!.raft.id);
    for (const id of ids) {
      assert.deepEqual(await group.logBytes(id), finalBytes, `node ${id} after the restart`);
      assert.deepEqual(group.machines.get(id)!.values.slice(0, expected.length), expected);
    }
  } finally {
    await group.stopAll();
    root.remove();
  }
});

test('a follower behind the leader\'s compacted log installs its snapshot: its segment log restarts at the snapshot\'s next offset', async () => {
  const root = tempDir('sb-partgroup-snap-');
  const group = new PartitionGroup(root.path, { everyEntries: 8, keepEntries: 2 });
  try {
    for (const id of ids) await group.start(id);
    await group.produce('a', 5);
    await group.until(() => group.leader() !== undefined, 'a leader');
    const leaderId = group.leader()!.raft.id;
    const isolated = ids.find((id) => id !== leaderId)!;
    group.drop = (m) => m.to === isolated || m.from === isolated;
    await group.produce('b', 40);
    const leaderStore = group.stores.get(leaderId)!;
    assert.ok(leaderStore.firstIndex() > group.stores.get(isolated)!.lastIndex() + 1, 'the leader compacted what the follower lacks');
    group.drop = () => false;
    const end = () => group.logs.get(group.leader()?.raft.id ?? leaderId)!.endOffset;
    await group.until(() => ids.every((id) => group.logs.get(id)!.endOffset === end() && group.machines.get(id)!.values.length === end()), 'the follower to catch up');
    const follower = group.logs.get(isolated)!;
    const snapshotOffset = decodePartitionSnapshotData(group.stores.get(isolated)!.snapshot().data).nextOffset;
    assert.ok(follower.logStartOffset > 0 && follower.logStartOffset <= snapshotOffset, 'the follower\'s log restarted at a snapshot');
    assert.deepEqual(await group.logBytes(isolated), await group.logBytes(group.leader()!.raft.id, follower.logStartOffset), 'the same batches from there on');
    assert.deepEqual(group.machines.get(isolated)!.values, group.machines.get(group.leader()!.raft.id)!.values, 'the snapshot carried the applied state');
  } finally {
    await group.stopAll();
    root.remove();
  }
});

test('an isolated leader\'s uncommitted batches at offsets a new leader reuses are truncated: no offset ever holds two batches', async () => {
  const root = tempDir('sb-partgroup-split-');
  const group = new PartitionGroup(root.path);
  try {
    for (const id of ids) await group.start(id);
    await group.produce('a', 5);
    const old = group.leader()!;
    const oldId = old.raft.id;
    group.drop = (m) => m.to === oldId || m.from === oldId;
    // The isolated leader appends batches that can never commit, at offsets the others will reuse.
    const oldStore = group.stores.get(oldId)!;
    let offset = oldStore.endOffsetAt(oldStore.lastIndex());
    const doomed = [0, 1, 2].map((i) => batch(offset++, old.raft.term, [`lost${i}`]));
    const outcomes: string[] = [];
    assert.equal(old.propose(doomed, (o) => outcomes.push(o.kind)).accepted, true);
    await group.until(() => [...group.drivers.values()].some((d) => d.raft.id !== oldId && d.raft.isLeader), 'a new leader');
    await group.until(() => group.logs.get(oldId)!.endOffset === offset, 'the isolated leader to store its batches');
    await group.produce('c', 10);
    group.drop = () => false;
    const end = () => group.logs.get(group.leader()!.raft.id)!.endOffset;
    await group.until(() => ids.every((id) => group.logs.get(id)!.endOffset === end() && group.machines.get(id)!.values.length === end()), 'the old leader to converge');
    assert.equal(outcomes.length, 1);
    assert.notEqual(outcomes[0], 'applied', 'the isolated leader\'s proposal is not reported applied');
    const bytes = await group.logBytes(group.leader()!.raft.id);
    for (const id of ids) {
      assert.deepEqual(await group.logBytes(id), bytes, `node ${id}`);
      assert.equal(group.machines.get(id)!.values.some((v) => v.startsWith('lost')), false, `node ${id} never applied a lost batch`);
    }
  } finally {
    await group.stopAll();
    root.remove();
  }
});
