/**
 * The cluster's administration over HTTP (server.httpPort), as Redpanda's admin API does it: what a
 * Kafka client cannot ask for. Routes (JSON):
 *
 *   GET /v1/brokers                       every registered broker: state, reachability, replicas, leaders
 *   GET /v1/brokers/{id}                  one of them
 *   PUT /v1/brokers/{id}/decommission     start draining it (its replicas move to other brokers)
 *   PUT /v1/brokers/{id}/recommission     stop draining it (it takes replicas again)
 *
 * A broker's state: `active`; `draining` (decommissioned, replicas still on it, or still one of the
 * controller's voters); `drained` (decommissioned, holds nothing and votes in no controller election: it
 * may be stopped for good, or come back with a new disk).
 * Any broker answers; changes go through the controller.
 */
import type { AdminRoutes, AdminAnswer } from '../http/server.ts';
import { metadataErrorCode } from '../broker/kafka-errors.ts';
import { replicaSet } from '../metadata/reassignment.ts';
import { voterRemovalProblem } from '../replication/controller/controller-membership.ts';
import type { ClusterNode } from './cluster-node.ts';

export interface BrokerStatus {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  readonly state: 'active' | 'draining' | 'drained';
  /** Why it drains, when it does: an operator decommissioned it, or it was unreachable longer than cluster.deadBrokerTimeout. */
  readonly drainReason?: 'decommissioned' | 'unreachable';
  /** Whether the answering broker reaches it now. */
  readonly reachable: boolean;
  /** Partitions it holds a replica of, moves to it included. */
  readonly replicas: number;
  /** Partitions it leads, as the answering broker knows. */
  readonly leaders: number;
  /** Partitions moving onto or off it now. */
  readonly moving: number;
  /** One of the controller's voters (a decommissioned one leaves them once it holds nothing). */
  readonly controllerVoter: boolean;
}

const BROKER_PATH = /^\/v1\/brokers\/(\d+)(?:\/(decommission|recommission))?$/;

export class ClusterAdmin implements AdminRoutes {
  constructor(private readonly node: ClusterNode) {}

  brokers(): BrokerStatus[] {
    const state = this.node.metadata.state;
    const counts = new Map<number, { replicas: number; leaders: number; moving: number }>();
    const of = (id: number) => counts.get(id) ?? counts.set(id, { replicas: 0, leaders: 0, moving: 0 }).get(id)!;
    for (const topic of state.topics()) {
      for (let p = 0; p < topic.partitions; p++) {
        const moving = topic.reassignments?.[p] !== undefined;
        for (const id of replicaSet(topic, p)) {
          of(id).replicas++;
          if (moving) of(id).moving++;
        }
        const leader = this.node.view.leaderOf(topic, p);
        if (leader >= 0) of(leader).leaders++;
      }
    }
    const voters = this.node.controllerVoters();
    return state.brokers().map((b) => {
      const c = of(b.id);
      const controllerVoter = voters.includes(b.id);
      return {
        id: b.id,
        host: b.host,
        port: b.port,
        rack: b.rack,
        state: b.draining !== true ? 'active' : c.replicas > 0 || controllerVoter ? 'draining' : 'drained',
        ...(b.draining === true ? { drainReason: b.autoDrained === true ? 'unreachable' : 'decommissioned' } : {}),
        reachable: this.node.isReachable(b.id),
        ...c,
        controllerVoter,
      };
    });
  }

  handle(method: string, path: string): Promise<AdminAnswer> | null {
    if (path === '/v1/brokers') return method === 'GET' ? Promise.resolve({ status: 200, body: this.brokers() }) : null;
    const m = BROKER_PATH.exec(path);
    if (m === null) return null;
    const id = Number(m[1]);
    if (m[2] === undefined) {
      if (method !== 'GET') return null;
      const broker = this.brokers().find((b) => b.id === id);
      return Promise.resolve(broker === undefined ? { status: 404, body: { error: 'BROKER_ID_NOT_REGISTERED', message: `Broker ${id} is not registered.` } } : { status: 200, body: broker });
    }
    if (method !== 'PUT') return null;
    return this.setDraining(id, m[2] === 'decommission');
  }

  private async setDraining(id: number, draining: boolean): Promise<AdminAnswer> {
    // The controller's membership is Raft's, not the metadata's, so this check is made here, against
    // this broker's view of the voters: a decommissioned voter leaves them once drained. The
    // metadata's own refusals (too few brokers for a partition's replicas) come first, as the
    // controller would give them.
    const voters = this.node.controllerVoters();
    if (draining && voters.includes(id) && this.node.metadata.state.validate({ type: 'drain-broker', id, draining }).error === null) {
      const problem = voterRemovalProblem(voters, id, (v) => this.node.isReachable(v));
      if (problem !== null) return { status: 400, body: { error: 'INVALID_REQUEST', code: metadataErrorCode('INVALID_REQUEST'), message: `Decommissioning refused: ${problem}.` } };
    }
    const result = await this.node.metadata.submit({ type: 'drain-broker', id, draining });
    if (result.error !== null) {
      const status = result.error === 'BROKER_ID_NOT_REGISTERED' ? 404 : result.error === 'NOT_CONTROLLER' || result.error === 'REQUEST_TIMED_OUT' ? 503 : 400;
      return { status, body: { error: result.error, code: metadataErrorCode(result.error), message: result.message ?? null } };
    }
    return { status: 200, body: this.brokers().find((b) => b.id === id) ?? { id } };
  }
}
