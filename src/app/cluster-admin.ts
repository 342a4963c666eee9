/**
 * The brokers in the admin API (docs/admin-api.md), as Redpanda's admin API has them: what a Kafka client
 * cannot ask for. Routes (JSON):
 *
 *   GET /api/v1/brokers                       every registered broker: state, reachability, replicas, leaders
 *   GET /api/v1/brokers/{id}                  one of them
 *   PUT /api/v1/brokers/{id}/decommission     start draining it (its replicas move to other brokers)
 *   PUT /api/v1/brokers/{id}/recommission     stop draining it (it takes replicas again)
 *
 * States: see admin/broker-status.ts. Any broker answers; changes go through the controller and, with
 * authorization on, reads need DESCRIBE and changes ALTER on the cluster (an ACL or a super user), as
 * Kafka's DescribeCluster and cluster changes do.
 * A lone broker lists itself; it cannot be decommissioned (there is nowhere to move its replicas).
 */
import type { AdminAnswer, AdminRequest, AdminRoute } from '../http/admin-api.ts';
import { errorAnswer } from '../http/admin-api.ts';
import type { BrokerStatus } from '../admin/broker-status.ts';
import { metadataErrorCode } from '../broker/kafka-errors.ts';
import { replicaSet } from '../metadata/reassignment.ts';
import { voterRemovalProblem } from '../replication/controller/controller-membership.ts';
import type { MetadataService } from '../replication/metadata-service.ts';
import type { ClusterView } from '../replication/cluster-view.ts';

/** What the broker routes read: the metadata, this broker's view of leaders, the controller's voters, reachability. */
export interface AdminNode {
  readonly metadata: MetadataService;
  readonly view: ClusterView;
  controllerVoters(): readonly number[];
  isReachable(id: number): boolean;
}

export interface ClusterAdminOptions {
  /** With authorization on: whether `principal` may read (DESCRIBE) or change (ALTER) the cluster; absent when every caller may. */
  mayOnCluster?: (operation: 'DESCRIBE' | 'ALTER', principal: string, host: string) => boolean;
}

export class ClusterAdmin {
  constructor(
    /** Null until the broker's metadata is available (storage recovered, a cluster joined). */
    private readonly current: () => AdminNode | null,
    private readonly options: ClusterAdminOptions = {},
  ) {}

  private get node(): AdminNode {
    return this.current()!;
  }

  readonly routes: readonly AdminRoute[] = [
    { method: 'GET', path: '/api/v1/brokers', handle: async (r) => this.refusal(r, 'DESCRIBE') ?? (this.current() === null ? notServing() : { status: 200, body: this.brokers() }) },
    { method: 'GET', path: '/api/v1/brokers/{id}', handle: async (r) => this.refusal(r, 'DESCRIBE') ?? this.withBroker(r, (id) => ({ status: 200, body: this.brokers().find((b) => b.id === id)! })) },
    { method: 'PUT', path: '/api/v1/brokers/{id}/decommission', handle: (r) => this.change(r, true) },
    { method: 'PUT', path: '/api/v1/brokers/{id}/recommission', handle: (r) => this.change(r, false) },
  ];

  /** Every broker with its state; empty before the metadata is available. */
  brokers(): BrokerStatus[] {
    if (this.current() === null) return [];
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
        const leader = this.node.view.partition(topic, p).leader;
        if (leader >= 0) of(leader).leaders++;
      }
    }
    const voters = this.node.controllerVoters();
    // A lone broker registers nowhere: it is the one endpoint its view knows.
    const registered = state.brokers().length > 0 ? state.brokers() : this.node.view.brokers().map((b) => ({ ...b, draining: false, autoDrained: false }));
    return registered.map((b): BrokerStatus => {
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

  /** Runs `answer` for a broker id that is registered; 400 for a malformed id, 404 for an unknown one. */
  private async withBroker(r: AdminRequest, answer: (id: number) => AdminAnswer | Promise<AdminAnswer>): Promise<AdminAnswer> {
    if (this.current() === null) return notServing();
    const text = r.params.id!;
    const id = Number(text);
    if (!/^\d{1,9}$/.test(text)) return errorAnswer(400, 'SB_ERR_INVALID_REQUEST', 'INVALID_BROKER_ID', `a broker id is an integer >= 0, got "${text}"`);
    if (!this.brokers().some((b) => b.id === id)) return notRegistered(id);
    return answer(id);
  }

  /** 403 when the ACLs refuse the caller `operation` on the cluster (DESCRIBE to read, ALTER to change, as Kafka's DescribeCluster and reassignments); null when allowed. */
  private refusal(r: AdminRequest, operation: 'DESCRIBE' | 'ALTER'): AdminAnswer | null {
    const principal = r.caller.principal;
    if (principal === null || this.options.mayOnCluster === undefined || this.options.mayOnCluster(operation, principal, r.caller.host)) return null;
    const what = operation === 'ALTER' ? 'change' : 'describe';
    return errorAnswer(403, 'SB_ERR_FORBIDDEN', 'CLUSTER_AUTHORIZATION_FAILED', `${principal} may not ${what} the cluster: ${operation} on the cluster (an ACL, or security.authorization.superUsers) is needed`);
  }

  private change(r: AdminRequest, draining: boolean): Promise<AdminAnswer> {
    const refused = this.refusal(r, 'ALTER');
    if (refused !== null) return Promise.resolve(refused);
    if (this.current() === null) return Promise.resolve(notServing());
    if (this.node.metadata.state.brokers().length === 0) {
      return Promise.resolve(errorAnswer(400, 'SB_ERR_INVALID_REQUEST', 'INVALID_REQUEST', 'a lone broker (no cluster.nodes) cannot be decommissioned or recommissioned: there is no other broker for its replicas'));
    }
    return this.withBroker(r, (id) => this.setDraining(id, draining));
  }

  private async setDraining(id: number, draining: boolean): Promise<AdminAnswer> {
    // The controller's membership is Raft's, not the metadata's, so this check is made here, against
    // this broker's view of the voters: a decommissioned voter leaves them once drained. The
    // metadata's own refusals (too few brokers for a partition's replicas) come first, as the
    // controller would give them.
    const voters = this.node.controllerVoters();
    if (draining && voters.includes(id) && this.node.metadata.state.validate({ type: 'drain-broker', id, draining }).error === null) {
      const problem = voterRemovalProblem(voters, id, (v) => this.node.isReachable(v));
      if (problem !== null) return errorAnswer(400, 'SB_ERR_INVALID_REQUEST', 'INVALID_REQUEST', `Decommissioning refused: ${problem}.`, { kafkaCode: metadataErrorCode('INVALID_REQUEST') });
    }
    const result = await this.node.metadata.submit({ type: 'drain-broker', id, draining });
    if (result.error !== null) {
      const kafkaCode = metadataErrorCode(result.error);
      const message = result.message ?? result.error;
      if (result.error === 'BROKER_ID_NOT_REGISTERED') return notRegistered(id);
      if (result.error === 'NOT_CONTROLLER' || result.error === 'REQUEST_TIMED_OUT') return errorAnswer(503, 'SB_ERR_UNAVAILABLE', result.error, message, { kafkaCode });
      return errorAnswer(400, 'SB_ERR_INVALID_REQUEST', result.error, message, { kafkaCode });
    }
    return { status: 200, body: this.brokers().find((b) => b.id === id) ?? { id } };
  }
}

function notRegistered(id: number): AdminAnswer {
  return errorAnswer(404, 'SB_ERR_NOT_FOUND', 'BROKER_ID_NOT_REGISTERED', `Broker ${id} is not registered.`);
}

function notServing(): AdminAnswer {
  return errorAnswer(503, 'SB_ERR_UNAVAILABLE', 'NOT_SERVING', 'the broker has no metadata yet (recovering storage, or joining its cluster); retry once /health/ready answers 200');
}
