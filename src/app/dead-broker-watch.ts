/**
 * cluster.deadBrokerTimeout on the controller's leader: a broker unreachable from the leader for that
 * long has its replicas re-created on the other brokers (it is decommissioned automatically, and the
 * decommissioning moves do the copying); once it is reachable again that is undone, and balancing
 * gives it replicas back. Redpanda's continuous partition autobalancing does the same.
 *
 * The clock starts when this broker, as leader, first sees a broker unreachable: a new leader waits a
 * whole timeout, never less. A broker an operator decommissioned is left alone either way. The
 * decision is the leader's view of reachability, as Redpanda's is its health monitor's.
 */
import type { ClusterState } from '../metadata/cluster-state.ts';

export interface DeadBrokerAction {
  readonly id: number;
  /** true: re-create its replicas elsewhere; false: it is back, undo that. */
  readonly draining: boolean;
  /** For how long it has been unreachable (when draining). */
  readonly unreachableMs: number;
}

export class DeadBrokerWatch {
  private readonly unreachableSince = new Map<number, number>();
  /** Brokers with a command in flight, so that a round does not submit it twice. */
  private readonly pending = new Set<number>();

  constructor(private readonly timeoutMs: number) {}

  /** Forgets every clock: this broker no longer leads the controller. */
  reset(): void {
    this.unreachableSince.clear();
  }

  /** What to submit now, given the applied state and who is reachable. */
  check(state: ClusterState, reachable: (id: number) => boolean, now: number): DeadBrokerAction[] {
    if (this.timeoutMs <= 0) return [];
    const actions: DeadBrokerAction[] = [];
    for (const broker of state.brokers()) {
      if (this.pending.has(broker.id)) continue;
      if (reachable(broker.id)) {
        this.unreachableSince.delete(broker.id);
        if (broker.autoDrained === true) actions.push({ id: broker.id, draining: false, unreachableMs: 0 });
        continue;
      }
      const since = this.unreachableSince.get(broker.id) ?? now;
      this.unreachableSince.set(broker.id, since);
      if (broker.draining === true || !state.holds(broker.id)) continue;
      if (now - since >= this.timeoutMs) actions.push({ id: broker.id, draining: true, unreachableMs: now - since });
    }
    return actions;
  }

  /** Marks `id`'s command as submitted until `done` settles. */
  track(id: number, done: Promise<unknown>): void {
    this.pending.add(id);
    void done.then(
      () => this.pending.delete(id),
      () => this.pending.delete(id),
    );
  }
}
