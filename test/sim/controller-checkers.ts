/**
 * Goal: the invariants of the replicated controller (the production ControllerStateMachine and
 * ReplicatedMetadata over RaftDriver), checked as the cluster simulation (controller-sim.ts) runs.
 * Method: every broker's applied state machine is wrapped (ObservedControllerMachine) so that each
 * applied entry, and each restore from a snapshot, is reported with a hash of the ClusterState
 * snapshot right after it; the workload reports every submit that resolved and every producer id it
 * was handed. The first broken invariant is kept, with a message naming it; the run stops there.
 *
 * - state-machine safety: two brokers that applied (or restored to) the same log index hold
 *   identical ClusterState snapshots there, and applied the same command there.
 * - acknowledged means applied: a submit that resolved with error null has a matching command
 *   applied with success somewhere (so it is committed, and on every broker that applies past it,
 *   by the check above); identical commands are counted, so N acknowledgements need N entries. For
 *   allocate-producer-ids the returned block must be the one that entry allocated.
 * - read your writes (optional): when a submit resolves with error null, its broker has applied
 *   past a matching entry (ReplicatedMetadata's contract: the caller reads the effect from `state`).
 * - unique producer ids: nextProducerId never hands out an id twice, cluster-wide, across crashes.
 * - one cluster id: at most one cluster id is ever in effect on any broker.
 */
import { createHash } from 'node:crypto';
import type { ClusterSnapshotV2, MetadataCommand, MetadataResult } from '../../src/metadata/cluster-state.ts';
import { EntryType } from '../../src/raft/index.ts';
import type { Entry, NodeId, Snapshot } from '../../src/raft/index.ts';
import type { ControllerStateMachine } from '../../src/replication/controller/controller-state-machine.ts';
import { decodeControllerEntry } from '../../src/replication/controller/controller-entry.ts';
import type { RaftStateMachine } from '../../src/replication/raft-state-machine.ts';

/** One applied command as the checker remembers it: its text and whether it succeeded. */
interface AppliedCommand {
  readonly text: string;
  readonly ok: boolean;
  /** allocate-producer-ids that succeeded: the first id of the block. */
  readonly firstProducerId: string | null;
}

/** A command's identity for matching: its JSON text (the log and the forward keep key order). */
export function commandText(cmd: MetadataCommand): string {
  return JSON.stringify(cmd);
}

/** Names a controller log entry in Raft-level violation messages (checkers.ts). */
export function describeControllerEntry(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

export class ControllerChecker {
  violation: string | null = null;
  /** Applied (or restored) index -> hash of the ClusterState snapshot there, and who recorded it first. */
  private readonly hashes = new Map<number, { hash: string; broker: NodeId }>();
  /** Applied index -> the command there (absent: a no-op, a membership change or the naming entry). */
  private readonly commands = new Map<number, AppliedCommand>();
  /** Command text -> indexes where it applied with success, ascending as first applied. */
  private readonly okIndexes = new Map<string, number[]>();
  /** allocate-producer-ids blocks: first id -> index. */
  private readonly blocks = new Map<string, number>();
  /** Command text -> acknowledgements with error null so far. */
  private readonly acks = new Map<string, number>();
  private readonly producerIds = new Map<bigint, NodeId>();
  private readonly clusterIds = new Set<string>();
  /** How many applied entries and restores were compared. */
  comparisons = 0;

  /** `readYourWrites`: check that an OK submit's broker already applied the command. */
  constructor(private readonly readYourWrites: boolean) {}

  fail(invariant: string, detail: string): void {
    if (this.violation === null) this.violation = `${invariant}: ${detail}`;
  }

  /** Broker `id` holds `state` after applying (or restoring to) `index`. */
  stateAt(id: NodeId, index: number, state: ClusterSnapshotV2 | null, how: 'applied' | 'restored'): void {
    this.comparisons++;
    const text = JSON.stringify(state);
    const hash = createHash('sha1').update(text).digest('hex');
    const known = this.hashes.get(index);
    if (known === undefined) this.hashes.set(index, { hash, broker: id });
    else if (known.hash !== hash) {
      this.fail('state-machine safety', `broker ${id} ${how} to index ${index} holds cluster state ${hash.slice(0, 12)}, broker ${known.broker} held ${known.hash.slice(0, 12)} there (${id}: ${text.slice(0, 300)})`);
    }
    if (state !== null) {
      this.clusterIds.add(state.clusterId);
      if (this.clusterIds.size > 1) this.fail('one cluster id', `broker ${id} has cluster id ${state.clusterId} at index ${index}; ids seen: ${[...this.clusterIds].join(', ')}`);
    }
  }

  /** Broker `id` applied a command entry at `index`; `before` is its state just before. */
  appliedCommand(id: NodeId, index: number, cmd: MetadataCommand, before: ClusterSnapshotV2 | null, verdict: MetadataResult | null): void {
    const ok = verdict !== null && verdict.error === null;
    const applied: AppliedCommand = {
      text: commandText(cmd),
      ok,
      firstProducerId: ok && cmd.type === 'allocate-producer-ids' && before !== null ? before.nextProducerId : null,
    };
    const known = this.commands.get(index);
    if (known === undefined) {
      this.commands.set(index, applied);
      if (applied.ok) {
        const list = this.okIndexes.get(applied.text) ?? [];
        list.push(index);
        this.okIndexes.set(applied.text, list);
      }
      if (applied.firstProducerId !== null) this.blocks.set(applied.firstProducerId, index);
    } else if (known.text !== applied.text || known.ok !== applied.ok || known.firstProducerId !== applied.firstProducerId) {
      this.fail('state-machine safety', `broker ${id} applied ${applied.text} (ok=${applied.ok}) at index ${index}, another broker applied ${known.text} (ok=${known.ok})`);
    }
  }

  /** A submit on broker `id`, which has applied up to `appliedIndex`, resolved with `result`. */
  submitted(id: NodeId, cmd: MetadataCommand, result: MetadataResult, appliedIndex: number): void {
    if (result.error !== null) return;
    const text = commandText(cmd);
    const count = (this.acks.get(text) ?? 0) + 1;
    this.acks.set(text, count);
    if (cmd.type === 'allocate-producer-ids') {
      const first = result.firstProducerId?.toString();
      const index = first === undefined ? undefined : this.blocks.get(first);
      if (index === undefined) {
        this.fail('acknowledged means applied', `broker ${id} acknowledged producer id block ${first ?? '(none)'}, which no applied allocate-producer-ids handed out`);
        return;
      }
      if (this.readYourWrites && appliedIndex < index) this.fail('read your writes', `broker ${id} acknowledged ${text} (index ${index}) having applied only up to ${appliedIndex}`);
      return;
    }
    const indexes = this.okIndexes.get(text) ?? [];
    if (indexes.length < count) {
      this.fail('acknowledged means applied', `broker ${id} acknowledged ${text} (acknowledgement ${count}), but it applied with success ${indexes.length} time(s)`);
      return;
    }
    if (this.readYourWrites && appliedIndex < indexes[0]!) {
      this.fail('read your writes', `broker ${id} acknowledged ${text} (first applied at index ${indexes[0]}) having applied only up to ${appliedIndex}`);
    }
  }

  /** Broker `id`'s nextProducerId handed out `producerId`. */
  producerId(id: NodeId, producerId: bigint): void {
    const known = this.producerIds.get(producerId);
    if (known !== undefined) this.fail('unique producer ids', `broker ${id} handed out producer id ${producerId}, broker ${known} had handed it out before`);
    else this.producerIds.set(producerId, id);
  }

  get producerIdsHandedOut(): number {
    return this.producerIds.size;
  }

  get clusterIdCount(): number {
    return this.clusterIds.size;
  }
}

/**
 * A broker's applied state machine as its RaftDriver sees it: the production ControllerStateMachine
 * (or a deliberately broken subclass), fed one entry at a time so that the state after every index
 * can be reported. ReplicatedMetadata is given `inner` itself, so it sees the same machine as in a
 * broker.
 */
export class ObservedControllerMachine implements RaftStateMachine {
  private lastState: ClusterSnapshotV2 | null = null;

  constructor(
    readonly id: NodeId,
    readonly inner: ControllerStateMachine,
    private readonly checker: ControllerChecker,
  ) {}

  apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const before = this.lastState;
      let cmd: MetadataCommand | null = null;
      let verdict: MetadataResult | null = null;
      if (entry.type === EntryType.Normal && entry.data.byteLength > 0) {
        const decoded = decodeControllerEntry(entry.data);
        if (decoded.kind === 'command') {
          cmd = decoded.cmd;
          verdict = this.inner.state?.validate(cmd) ?? null;
        }
      }
      this.inner.apply([entry]);
      this.lastState = this.inner.state?.snapshot() ?? null;
      if (cmd !== null) this.checker.appliedCommand(this.id, entry.index, cmd, before, verdict);
      this.checker.stateAt(this.id, entry.index, this.lastState, 'applied');
    }
  }

  snapshot(): Uint8Array {
    return this.inner.snapshot();
  }

  restore(snapshot: Snapshot): void {
    this.inner.restore(snapshot);
    this.lastState = this.inner.state?.snapshot() ?? null;
    this.checker.stateAt(this.id, snapshot.metadata.index, this.lastState, 'restored');
  }
}
