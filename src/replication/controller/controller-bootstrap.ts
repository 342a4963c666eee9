/**
 * Whether a listed broker whose controller log is empty may vote at once.
 *
 * An empty controller log on a broker of cluster.nodes means one of two things: the cluster is new
 * (every listed broker starts empty), or this broker's disk was replaced or wiped. In the second case
 * it may have helped commit entries it no longer has and forgotten the votes it cast: voting now could
 * elect a leader that misses committed metadata. So an empty broker starts joining (no vote, no
 * campaign; RaftConfig.joining) and asks every other listed broker whether its controller log holds
 * anything:
 *   - any one does: the cluster exists; this broker catches up from the leader and then votes
 *     (raft.ts checkJoined);
 *   - all of them answer that theirs is empty: no entry was ever written anywhere, nothing can be
 *     lost, and the broker votes at once (RaftDriver.endJoining).
 * Until every listed broker answered, it waits: a new cluster forms once all of cluster.nodes have
 * started once. Brokers outside cluster.nodes never vote in the controller group and never ask.
 *
 * Messages (docs/transport.md): type 42 `[requestId]` asks, type 43 `[requestId, holdsEntries]` answers.
 */
import type { ControllerChannel } from './controller-channel.ts';
import type { ControllerLogger } from './replicated-metadata.ts';

export const MSG_LOG_PROBE = 42;
export const MSG_LOG_PROBE_ANSWER = 43;

const REQUEST_ID_MAX = Number.MAX_SAFE_INTEGER;

export interface ControllerBootstrapOptions {
  readonly brokerId: number;
  readonly channel: ControllerChannel;
  /** The other brokers of cluster.nodes. */
  readonly listedPeers: readonly number[];
  /** Whether this broker's controller log holds anything (a term, an entry or a snapshot). */
  readonly holdsEntries: () => boolean;
  readonly log: ControllerLogger;
}

export type BootstrapDecision = 'new-cluster' | 'existing-cluster';

/** Answers other brokers' questions, and asks its own while deciding. */
export class ControllerBootstrap {
  private nextRequestId = 1;
  private readonly answers = new Map<number, boolean>();
  private deciding: { resolve: (decision: BootstrapDecision) => void } | null = null;
  /** The last question asked of each broker: an answer to it or to an earlier one counts (ids only grow). */
  private readonly asked = new Map<number, number>();

  constructor(private readonly options: ControllerBootstrapOptions) {
    options.channel.onMessage((from, message) => {
      if (message.type === MSG_LOG_PROBE) this.onProbe(from, message.body);
      else if (message.type === MSG_LOG_PROBE_ANSWER) this.onAnswer(from, message.body);
    });
  }

  /** The brokers that have not answered yet. */
  get waitingFor(): number[] {
    return this.options.listedPeers.filter((id) => !this.answers.has(id));
  }

  /**
   * Starts deciding; `ask()` must then be called periodically (each call asks the brokers that have
   * not answered). Resolves once decided; never resolves if some listed broker never answers.
   */
  decide(): Promise<BootstrapDecision> {
    return new Promise((resolve) => {
      this.deciding = { resolve };
      this.check();
    });
  }

  /** Asks every listed broker that has not answered yet (best effort: unanswered ones are asked again next time). */
  ask(): void {
    if (this.deciding === null) return;
    for (const peer of this.waitingFor) {
      const requestId = this.nextRequestId++;
      this.asked.set(peer, requestId);
      this.options.channel.send(peer, 'control', { type: MSG_LOG_PROBE, body: [requestId] });
    }
  }

  /** Stops deciding; the pending decide() never resolves. */
  abandon(): void {
    this.deciding = null;
  }

  private onProbe(from: number, body: unknown): void {
    if (!Array.isArray(body) || body.length !== 1 || !isRequestId(body[0])) {
      this.options.log.warn({ peer: from }, 'malformed controller log probe, ignored');
      return;
    }
    this.options.channel.send(from, 'control', { type: MSG_LOG_PROBE_ANSWER, body: [body[0], this.options.holdsEntries()] });
  }

  private onAnswer(from: number, body: unknown): void {
    if (!Array.isArray(body) || body.length !== 2 || !isRequestId(body[0]) || typeof body[1] !== 'boolean') {
      this.options.log.warn({ peer: from }, 'malformed controller log probe answer, ignored');
      return;
    }
    if (this.deciding === null || body[0] > (this.asked.get(from) ?? 0)) return;
    this.answers.set(from, body[1]);
    this.check();
  }

  private check(): void {
    const deciding = this.deciding;
    if (deciding === null) return;
    const holder = [...this.answers].find(([, holds]) => holds);
    let decision: BootstrapDecision | null = null;
    if (holder !== undefined) {
      decision = 'existing-cluster';
      this.options.log.info({ broker: holder[0] }, 'the controller log here is empty but another broker of cluster.nodes holds one: this broker (new, or with a replaced disk) catches up before it votes');
    } else if (this.waitingFor.length === 0) {
      decision = 'new-cluster';
      this.options.log.info({ brokers: this.options.listedPeers }, 'no broker of cluster.nodes holds a controller log: a new cluster, this broker votes at once');
    }
    if (decision === null) return;
    this.deciding = null;
    this.asked.clear();
    deciding.resolve(decision);
  }
}

function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= REQUEST_ID_MAX;
}
