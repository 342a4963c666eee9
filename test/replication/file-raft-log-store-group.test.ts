// Goal: production RaftDrivers run a group over FileRaftLogStores (asynchronous, fsynced writes,
// snapshots and compaction on real files), and a group stopped as a whole comes back from disk with
// the same logs, hard states and snapshots, elects a leader again and keeps committing.
// Method: three drivers whose stores live in temp folders, a message queue delivered between
// short sleeps while every node ticks (different election timeouts, so one campaigns first), and
// recording state machines (raft-group.ts). Each wait is bounded in wall time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Message, NodeId } from '../../src/raft/index.ts';
import { FileRaftLogStore } from '../../src/replication/file-raft-log-store.ts';
import { RaftDriver } from '../../src/replication/raft-driver.ts';
import { tempDir } from '../storage/helpers.ts';
import { RecordingStateMachine, text } from './raft-group.ts';
import { dump, portableDisk } from './raft-log-store-helpers.ts';

const ids: NodeId[] = [1, 2, 3];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class FileGroup {
  readonly stores = new Map<NodeId, FileRaftLogStore>();
  readonly drivers = new Map<NodeId, RaftDriver>();
  readonly machines = new Map<NodeId, RecordingStateMachine>();
  readonly failures: unknown[] = [];
  network: Message[] = [];

  constructor(private readonly root: string) {}

  async start(id: NodeId): Promise<void> {
    const store = await FileRaftLogStore.open(join(this.root, `node-${id}`), portableDisk, { initialConfState: { voters: ids, learners: [] } });
    const machine = new RecordingStateMachine([], id);
    this.stores.set(id, store);
    this.machines.set(id, machine);
    this.drivers.set(
      id,
      new RaftDriver({
        id,
        store,
        transport: { send: (_to, messages) => this.network.push(...messages) },
        stateMachine: machine,
        // Node 1 times out first, then 2, then 3: no split votes.
        random: { nextInt: (bound) => Math.min(bound - 1, (id - 1) * 4) },
        settings: { preVote: false },
        snapshots: { everyEntries: 8, keepEntries: 2 },
        onFailure: (error) => this.failures.push(error),
      }),
    );
  }

  async stopAll(): Promise<void> {
    for (const id of ids) this.drivers.get(id)!.stop();
    for (const id of ids) await this.stores.get(id)!.close();
    this.network = [];
  }

  leader(): RaftDriver | undefined {
    return [...this.drivers.values()].find((d) => d.raft.isLeader && !d.stopped);
  }

  /** Ticks every node, delivers messages and lets the stores' writes complete, until `done()` or 5 s pass. */
  async until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!done()) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      assert.deepEqual(this.failures, []);
      for (const d of this.drivers.values()) d.tick();
      for (let round = 0; round < 5; round++) {
        const messages = this.network;
        this.network = [];
        for (const m of messages) this.drivers.get(m.to)?.step(m);
        await sleep(1);
      }
    }
  }

  async propose(values: string[]): Promise<void> {
    for (const value of values) {
      await this.until(() => this.leader() !== undefined, 'a leader');
      let applied = false;
      let lost = false;
      this.leader()!.propose([text(value)], (outcome) => {
        applied = outcome.kind === 'applied';
        lost = !applied;
      });
      await this.until(() => applied || lost, `proposal ${value}`);
      assert.equal(lost, false, `proposal ${value} was lost`);
    }
  }

  applied(id: NodeId): string[] {
    return this.machines.get(id)!.applied.filter((s) => s !== '');
  }
}

test('a three-node group over file stores commits, restarts from disk identical, and keeps committing', async () => {
  const root = tempDir('sb-raftgroup-');
  const group = new FileGroup(root.path);
  try {
    for (const id of ids) await group.start(id);
    const first = Array.from({ length: 20 }, (_, i) => `v${i}`);
    await group.propose(first);
    await group.until(() => ids.every((id) => group.applied(id).length === first.length), 'every node to apply');
    for (const id of ids) assert.deepEqual(group.applied(id), first);
    for (const id of ids) assert.ok(group.stores.get(id)!.snapshot().metadata.index >= 8, `node ${id} took a snapshot`);

    const termBefore = group.leader()!.raft.term;
    await group.stopAll();
    const before = new Map(ids.map((id) => [id, dump(group.stores.get(id)!)]));
    for (const id of ids) await group.start(id);
    for (const id of ids) assert.deepEqual(dump(group.stores.get(id)!), before.get(id), `node ${id} reopened identical`);

    const second = ['w0', 'w1', 'w2', 'w3', 'w4'];
    await group.propose(second);
    assert.ok(group.leader()!.raft.term > termBefore, 'a leader of a new term');
    await group.until(() => ids.every((id) => group.applied(id).slice(-1)[0] === 'w4'), 'every node to apply after the restart');
    // Each restarted state machine restored its snapshot and re-applied the committed entries after it.
    const expected = [...first, ...second];
    for (const id of ids) {
      const applied = group.applied(id);
      assert.deepEqual(applied, expected.slice(expected.length - applied.length), `node ${id}`);
      assert.equal(group.stores.get(id)!.lastIndex(), group.stores.get(1)!.lastIndex());
    }
  } finally {
    await group.stopAll();
    root.remove();
  }
});
