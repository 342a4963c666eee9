/**
 * The controller's state machine: registered brokers, topics with their partitions' replica assignments
 * and configs, and the producer-id allocator. Pure: commands in, results out, no I/O. The same code
 * applies commands on a single broker (persisted as a snapshot file) and, with replication, as the
 * applied state machine of Raft group 0.
 * Ids, timestamps and replica placements are inside the commands (the proposer computes them, see
 * proposeAssignments), so applying a command is deterministic.
 *
 * Single-broker mode: while no broker has registered, the broker named `soloBrokerId` stands for the
 * whole cluster (every replica is on it), as before brokers registered at all. A replicated controller
 * passes null, so every replica of its log validates commands alike.
 */
import { assert } from '../util/assert.ts';
import { brokerRecord, registrationProblem, type BrokerRecord, type RegisterBrokerCommand } from './broker-registration.ts';
import { assignmentCountProblem, assignmentProblem } from './replica-assignment.ts';
import { desiredReplicas, inFlux, partitionsMoving, replicaSet, targetOf, targetProblem } from './reassignment.ts';
import { placeReplicas, type BrokerLoad, type PlacementBroker } from './replica-placement.ts';
import { checkTopicConfigs } from './topic-configs.ts';
import { isInternalTopic, topicNameProblem } from './topic-name.ts';
import { aclBindingProblem, sameBinding, type AclBinding } from './acls.ts';
import { applyQuotaChange, quotaChangeProblem, type ClientQuotaRecord, type QuotaChange } from './client-quotas.ts';
import { scramCredentialProblem, type ScramCredential, type ScramMechanismCode } from './scram-credentials.ts';

export type { BrokerRecord } from './broker-registration.ts';

export interface TopicRecord {
  readonly name: string;
  /** Topic id (KIP-516): a random UUID in its usual dashed form, never the zero UUID. */
  readonly topicId: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Replica broker ids per partition (index = partition), the first the preferred leader. */
  readonly assignments: readonly (readonly number[])[];
  /**
   * The Raft group id of each partition (index = partition) in a cluster: ids are handed out in
   * order of application, never reused, 0 being the controller's group.
   */
  readonly raftGroups: readonly number[];
  readonly configs: Readonly<Record<string, string>>;
  readonly createdAtMs: number;
  /** Target replicas of the partitions being moved, by partition index (reassignment.ts); absent when none. */
  readonly reassignments?: Readonly<Record<number, readonly number[]>>;
  /** The voters a partition's group was created with, once a move replaced its assignment (reassignment.ts). */
  readonly initialVoters?: Readonly<Record<number, readonly number[]>>;
  /** Brokers of replaced or cancelled targets that may still be group members, by partition (reassignment.ts). */
  readonly leaving?: Readonly<Record<number, readonly number[]>>;
}

export type MetadataCommand =
  | {
      type: 'create-topic';
      name: string;
      topicId: string;
      partitions: number;
      replicationFactor: number;
      /** One replica list per partition; from proposeAssignments, or a client's explicit assignment. */
      assignments: number[][];
      configs: Record<string, string>;
      timestampMs: number;
    }
  | { type: 'delete-topic'; name: string }
  /** assignments: replica lists of the added partitions only, in partition order. */
  | { type: 'create-partitions'; name: string; totalCount: number; assignments: number[][] }
  | { type: 'alter-configs'; name: string; set: Record<string, string>; remove: string[] }
  | { type: 'allocate-producer-ids'; count: number }
  | RegisterBrokerCommand
  /** Forgets a broker, so its id may register again with a new incarnation (see broker-registration.ts). */
  | { type: 'unregister-broker'; id: number }
  /** Starts (replicas) or cancels (null) moves of partitions of one topic (reassignment.ts). */
  | { type: 'reassign-partitions'; name: string; moves: { index: number; replicas: number[] | null }[] }
  /** A partition's leader reports its group's voters reached the target `replicas`: the move is done. */
  | { type: 'complete-reassignment'; name: string; index: number; replicas: number[] }
  /** Decommissions (draining true) or recommissions a broker (drain-plan.ts). */
  /**
   * Decommissions (draining) or recommissions a broker; `automatic` when the controller does it
   * because the broker was unreachable too long (cluster.deadBrokerTimeout).
   */
  | { type: 'drain-broker'; id: number; draining: boolean; automatic?: boolean }
  /** Stores access control entries (acls.ts); one already stored is kept once. */
  | { type: 'create-acls'; bindings: AclBinding[] }
  /** Removes these exact entries (the proposer resolved the client's filters against the state it read). */
  | { type: 'delete-acls'; bindings: AclBinding[] }
  /**
   * Stores SCRAM credentials, replacing a user's credential of the same mechanism; with `ifAbsent`, only
   * those not stored yet (a bootstrap user must not undo a later password change).
   */
  | { type: 'upsert-scram-credentials'; credentials: ScramCredential[]; ifAbsent: boolean }
  | { type: 'delete-scram-credentials'; credentials: { user: string; mechanism: number }[] }
  /** Sets and removes client quotas (client-quotas.ts); the proposer dropped the changes it refused. */
  | { type: 'alter-client-quotas'; changes: QuotaChange[] };

/** Errors StreamBus names itself; the broker maps each to the nearest Kafka error for Kafka clients. */
export type StreamBusMetadataError =
  /** A broker to unregister is still a replica of some partition. */
  | 'BROKER_HOLDS_REPLICAS';

/** Kafka error names (and StreamBus's own) the broker maps to codes; null means success. */
export const METADATA_ERRORS = [
  'TOPIC_ALREADY_EXISTS',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_PARTITIONS',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_REPLICA_ASSIGNMENT',
  'INVALID_CONFIG',
  'INVALID_REQUEST',
  'TOPIC_AUTHORIZATION_FAILED',
  'BROKER_ID_NOT_REGISTERED',
  /** The controller could not decide the command now (no leader, leadership changed while deciding); retriable. */
  'NOT_CONTROLLER',
  /** The controller did not answer in time; the command may still apply. Retriable. */
  'REQUEST_TIMED_OUT',
  'BROKER_HOLDS_REPLICAS',
  'NO_REASSIGNMENT_IN_PROGRESS',
  'UNSUPPORTED_SASL_MECHANISM',
  'UNACCEPTABLE_CREDENTIAL',
  'RESOURCE_NOT_FOUND',
] as const satisfies readonly string[];

export type MetadataError = (typeof METADATA_ERRORS)[number];

export function isMetadataError(value: unknown): value is MetadataError {
  return typeof value === 'string' && (METADATA_ERRORS as readonly string[]).includes(value);
}

export interface MetadataResult {
  error: MetadataError | null;
  message?: string;
  /** allocate-producer-ids: the first id of the allocated block. */
  firstProducerId?: bigint;
}

export const MAX_PARTITIONS_PER_TOPIC = 10_000;
/** Partition Raft group ids start here; 0 is the controller's group. */
export const FIRST_PARTITION_GROUP = 1;
const PRODUCER_ID_BLOCK_MAX = 1_000_000;
const RAFT_GROUP_MAX = 0x7fffffff;

/**
 * The persisted form. Version 2 added brokers and per-partition assignments; version 1 (single-broker data
 * directories) is still read, every replica then being on the broker that wrote it.
 */
export type ClusterSnapshot = ClusterSnapshotV2 | ClusterSnapshotV1;

export interface ClusterSnapshotV2 {
  version: 2;
  clusterId: string;
  brokers: BrokerRecord[];
  topics: TopicRecord[];
  nextProducerId: string;
  /** Absent in snapshots written before partitions had Raft groups (see restore). */
  nextRaftGroup?: number;
  /** Access control entries; absent when there are none (and in snapshots from before ACLs). */
  acls?: AclBinding[];
  /** SCRAM credentials; absent when there are none. */
  scramCredentials?: ScramCredential[];
  /** Client quotas; absent when there are none. */
  clientQuotas?: ClientQuotaRecord[];
}

export interface ClusterSnapshotV1 {
  version: 1;
  clusterId: string;
  topics: Omit<TopicRecord, 'assignments' | 'raftGroups'>[];
  nextProducerId: string;
}

export class ClusterState {
  private readonly topicsByName = new Map<string, TopicRecord>();
  private readonly brokersById = new Map<number, BrokerRecord>();
  private nextProducerId = 0n;
  /** The next partition Raft group id (0 is the controller's). */
  private nextRaftGroup = FIRST_PARTITION_GROUP;
  /** Replaced, never changed in place, so a reader may keep the array it got (the authorizer indexes it). */
  private aclList: readonly AclBinding[] = [];
  /** Replaced, never changed in place (readers keep the array they got). */
  private quotaList: readonly ClientQuotaRecord[] = [];
  /** By user, then mechanism code. */
  private readonly scram = new Map<string, Map<ScramMechanismCode, ScramCredential>>();

  constructor(
    readonly clusterId: string,
    readonly soloBrokerId: number | null,
  ) {
    assert(clusterId.length > 0, 'cluster id is empty');
    assert(soloBrokerId === null || (Number.isInteger(soloBrokerId) && soloBrokerId >= 0), `solo broker id ${soloBrokerId} is not a broker id`);
  }

  topic(name: string): TopicRecord | undefined {
    return this.topicsByName.get(name);
  }

  topics(): TopicRecord[] {
    return [...this.topicsByName.values()];
  }

  topicById(topicId: string): TopicRecord | undefined {
    for (const t of this.topicsByName.values()) if (t.topicId === topicId) return t;
    return undefined;
  }

  /** Every stored access control entry, in the order they were created. */
  acls(): readonly AclBinding[] {
    return this.aclList;
  }

  /** Every client quota entity with its values. */
  clientQuotas(): readonly ClientQuotaRecord[] {
    return this.quotaList;
  }

  scramCredential(user: string, mechanism: number): ScramCredential | undefined {
    return this.scram.get(user)?.get(mechanism as ScramMechanismCode);
  }

  /** Users with SCRAM credentials, with theirs, in name order. */
  scramUsers(): { user: string; credentials: ScramCredential[] }[] {
    return [...this.scram.keys()].sort().map((user) => ({ user, credentials: [...this.scram.get(user)!.values()].sort((a, b) => a.mechanism - b.mechanism) }));
  }

  broker(id: number): BrokerRecord | undefined {
    return this.brokersById.get(id);
  }

  /** Registered brokers in id order. */
  brokers(): BrokerRecord[] {
    return [...this.brokersById.values()].sort((a, b) => a.id - b.id);
  }

  /** The brokers replicas may be placed on: the registered ones, or the solo broker while none has registered. */
  availableBrokers(): PlacementBroker[] {
    if (this.brokersById.size > 0) return this.brokers().map(({ id, rack }) => ({ id, rack }));
    return this.soloBrokerId === null ? [] : [{ id: this.soloBrokerId, rack: null }];
  }

  /** Replicas and preferred leaderships per broker id, over every partition of every topic. */
  brokerLoads(): Map<number, BrokerLoad> {
    const loads = new Map<number, { replicas: number; leaders: number }>();
    const of = (id: number) => loads.get(id) ?? loads.set(id, { replicas: 0, leaders: 0 }).get(id)!;
    for (const t of this.topicsByName.values()) {
      for (let p = 0; p < t.assignments.length; p++) {
        const replicas = replicaSet(t, p);
        of(replicas[0]!).leaders++;
        for (const id of replicas) of(id).replicas++;
      }
    }
    return loads;
  }

  /**
   * Replica lists for `count` new partitions on the available brokers (those `usable` accepts: the
   * proposer leaves out brokers it cannot reach, as Kafka places replicas on live brokers only), evening out the load of the
   * partitions that exist (see replica-placement.ts). The start index is the number of partitions in the
   * cluster, so it is the same on every replica of the controller. Empty when the count or the factor is
   * out of range: validating the command then reports why, in Kafka's order of checks.
   */
  proposeAssignments(count: number, replicationFactor: number, usable: (brokerId: number) => boolean = () => true): number[][] {
    if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS_PER_TOPIC) return [];
    let partitionsInCluster = 0;
    for (const t of this.topicsByName.values()) partitionsInCluster += t.partitions;
    const placement = placeReplicas({
      // A broker being decommissioned takes no new replicas.
      brokers: this.availableBrokers().filter((b) => usable(b.id) && this.brokersById.get(b.id)?.draining !== true),
      load: this.brokerLoads(),
      partitions: count,
      replicationFactor,
      startIndex: partitionsInCluster,
    });
    return placement.error === null ? placement.assignments : [];
  }

  /** Checks a command without applying it (so handlers can answer validate_only requests). */
  validate(cmd: MetadataCommand): MetadataResult {
    switch (cmd.type) {
      case 'create-topic': {
        const problem = topicNameProblem(cmd.name);
        if (problem) return { error: 'INVALID_TOPIC_EXCEPTION', message: problem };
        if (this.topicsByName.has(cmd.name)) return { error: 'TOPIC_ALREADY_EXISTS', message: `Topic '${cmd.name}' already exists.` };
        if (!Number.isInteger(cmd.partitions) || cmd.partitions < 1 || cmd.partitions > MAX_PARTITIONS_PER_TOPIC) {
          return { error: 'INVALID_PARTITIONS', message: `Number of partitions must be between 1 and ${MAX_PARTITIONS_PER_TOPIC}.` };
        }
        const assignmentVerdict = this.checkAssignments(cmd.assignments, cmd.partitions, cmd.replicationFactor);
        if (assignmentVerdict.error) return assignmentVerdict;
        const configProblem = checkTopicConfigs(cmd.configs);
        if (configProblem) return { error: 'INVALID_CONFIG', message: configProblem };
        return { error: null };
      }
      case 'delete-topic':
        if (!this.topicsByName.has(cmd.name)) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `Topic '${cmd.name}' does not exist.` };
        if (isInternalTopic(cmd.name)) return { error: 'TOPIC_AUTHORIZATION_FAILED', message: `Internal topic '${cmd.name}' cannot be deleted.` };
        return { error: null };
      case 'create-partitions': {
        const t = this.topicsByName.get(cmd.name);
        if (!t) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `Topic '${cmd.name}' does not exist.` };
        if (cmd.totalCount <= t.partitions) {
          return { error: 'INVALID_PARTITIONS', message: `Topic currently has ${t.partitions} partitions, which is higher than the requested ${cmd.totalCount}.` };
        }
        if (cmd.totalCount > MAX_PARTITIONS_PER_TOPIC) return { error: 'INVALID_PARTITIONS', message: `At most ${MAX_PARTITIONS_PER_TOPIC} partitions.` };
        return this.checkAssignments(cmd.assignments, cmd.totalCount - t.partitions, t.replicationFactor);
      }
      case 'alter-configs': {
        if (!this.topicsByName.has(cmd.name)) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `Topic '${cmd.name}' does not exist.` };
        const configProblem = checkTopicConfigs(cmd.set);
        if (configProblem) return { error: 'INVALID_CONFIG', message: configProblem };
        return { error: null };
      }
      case 'allocate-producer-ids':
        // Forwarded from other brokers, so checked rather than asserted.
        if (!Number.isSafeInteger(cmd.count) || cmd.count < 1 || cmd.count > PRODUCER_ID_BLOCK_MAX) {
          return { error: 'INVALID_REQUEST', message: `A producer id block holds 1 to ${PRODUCER_ID_BLOCK_MAX} ids, not ${cmd.count}.` };
        }
        return { error: null };
      case 'register-broker':
        return registrationProblem(cmd) ?? { error: null };
      case 'unregister-broker': {
        if (!this.brokersById.has(cmd.id)) return { error: 'BROKER_ID_NOT_REGISTERED', message: `Broker ${cmd.id} is not registered.` };
        // Unregistering lets the id return with a new, empty data directory: no partition may still count
        // on the old one's log.
        const held = this.topics().flatMap((t) => t.assignments.flatMap((_, p) => (replicaSet(t, p).includes(cmd.id) ? [`${t.name}-${p}`] : [])));
        if (held.length > 0) {
          return {
            error: 'BROKER_HOLDS_REPLICAS',
            message: `Broker ${cmd.id} is still a replica of ${held.length} partition(s) (${held.slice(0, 3).join(', ')}${held.length > 3 ? ', ...' : ''}); move them to other brokers first.`,
          };
        }
        return { error: null };
      }
      case 'reassign-partitions': {
        const t = this.topicsByName.get(cmd.name);
        if (!t) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `Topic '${cmd.name}' does not exist.` };
        const registered = new Set(this.availableBrokers().map((b) => b.id));
        const seen = new Set<number>();
        for (const move of cmd.moves) {
          if (!Number.isInteger(move.index) || move.index < 0 || move.index >= t.partitions) {
            return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `Topic '${cmd.name}' has no partition ${move.index}.` };
          }
          if (seen.has(move.index)) return { error: 'INVALID_REQUEST', message: `Partition ${move.index} of '${cmd.name}' is listed twice.` };
          seen.add(move.index);
          if (move.replicas === null) {
            if (targetOf(t, move.index) === undefined) return { error: 'NO_REASSIGNMENT_IN_PROGRESS', message: `Partition ${cmd.name}-${move.index} is not being reassigned.` };
            continue;
          }
          const problem = targetProblem(move.replicas, (id) => registered.has(id));
          if (problem) return { error: 'INVALID_REPLICA_ASSIGNMENT', message: problem };
        }
        return { error: null };
      }
      case 'drain-broker': {
        const broker = this.brokersById.get(cmd.id);
        if (broker === undefined) return { error: 'BROKER_ID_NOT_REGISTERED', message: `Broker ${cmd.id} is not registered.` };
        // The controller's own decisions (cluster.deadBrokerTimeout) never override an operator's: it
        // drains only a broker nobody drains, and undoes only its own draining.
        if (cmd.automatic === true && cmd.draining && broker.draining === true) return { error: 'INVALID_REQUEST', message: `Broker ${cmd.id} is already being decommissioned.` };
        if (cmd.automatic === true && !cmd.draining && broker.autoDrained !== true) return { error: 'INVALID_REQUEST', message: `Broker ${cmd.id} was not decommissioned automatically.` };
        if (!cmd.draining) return { error: null };
        const others = this.brokers().filter((b) => b.id !== cmd.id && b.draining !== true).length;
        for (const t of this.topicsByName.values()) {
          for (let p = 0; p < t.partitions; p++) {
            const wanted = desiredReplicas(t, p);
            if (wanted.includes(cmd.id) && wanted.length > others) {
              return {
                error: 'INVALID_REPLICATION_FACTOR',
                message:
                  `Decommissioning broker ${cmd.id} would leave ${t.name}-${p} (${wanted.length} replicas) with ${others} broker(s) to hold them: ` +
                  'add a broker or recommission one first.',
              };
            }
          }
        }
        return { error: null };
      }
      case 'create-acls': {
        for (const b of cmd.bindings) {
          const problem = aclBindingProblem(b);
          if (problem) return { error: 'INVALID_REQUEST', message: `Invalid ACL: ${problem}.` };
        }
        return { error: null };
      }
      case 'delete-acls':
        return { error: null };
      case 'upsert-scram-credentials': {
        for (const c of cmd.credentials) {
          const problem = scramCredentialProblem(c);
          if (problem) return problem;
        }
        return { error: null };
      }
      case 'alter-client-quotas': {
        for (const change of cmd.changes) {
          const problem = quotaChangeProblem(change);
          if (problem) return { error: 'INVALID_REQUEST', message: `Invalid quota change: ${problem}.` };
        }
        return { error: null };
      }
      case 'delete-scram-credentials': {
        const missing = cmd.credentials.find((c) => this.scramCredential(c.user, c.mechanism) === undefined);
        return missing ? { error: 'RESOURCE_NOT_FOUND', message: `No SCRAM credential of mechanism ${missing.mechanism} for user ${missing.user}.` } : { error: null };
      }
      case 'complete-reassignment': {
        const t = this.topicsByName.get(cmd.name);
        if (!t || !Number.isInteger(cmd.index) || cmd.index < 0 || cmd.index >= t.partitions) {
          return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `Partition ${cmd.name}-${cmd.index} does not exist.` };
        }
        const wanted = desiredReplicas(t, cmd.index);
        // A report about a move cancelled or replaced meanwhile is stale.
        if (!inFlux(t, cmd.index) || wanted.length !== cmd.replicas.length || wanted.some((id, i) => id !== cmd.replicas[i])) {
          return { error: 'NO_REASSIGNMENT_IN_PROGRESS', message: `Partition ${cmd.name}-${cmd.index} is not being moved to [${cmd.replicas.join(', ')}].` };
        }
        return { error: null };
      }
    }
  }

  /**
   * The checks shared by new topics and added partitions. Per-partition problems come before the broker
   * count, so an explicit assignment naming an unknown broker is told so (as Kafka does), and before the
   * partition count, so a placement that failed (proposeAssignments returned none) reports the factor.
   */
  private checkAssignments(assignments: readonly (readonly number[])[], added: number, replicationFactor: number): MetadataResult {
    if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
      return { error: 'INVALID_REPLICATION_FACTOR', message: 'Replication factor must be larger than 0.' };
    }
    const available = new Set(this.availableBrokers().map((b) => b.id));
    const problem = assignmentProblem(assignments, replicationFactor, (id) => available.has(id));
    if (problem) return { error: 'INVALID_REPLICA_ASSIGNMENT', message: problem };
    if (replicationFactor > available.size) {
      return { error: 'INVALID_REPLICATION_FACTOR', message: `Replication factor: ${replicationFactor} larger than available brokers: ${available.size}.` };
    }
    const countProblem = assignmentCountProblem(assignments, added);
    if (countProblem) return { error: 'INVALID_REPLICA_ASSIGNMENT', message: countProblem };
    return { error: null };
  }

  apply(cmd: MetadataCommand): MetadataResult {
    const verdict = this.validate(cmd);
    if (verdict.error) return verdict;
    switch (cmd.type) {
      case 'create-topic':
        this.topicsByName.set(cmd.name, {
          name: cmd.name,
          topicId: cmd.topicId,
          partitions: cmd.partitions,
          replicationFactor: cmd.replicationFactor,
          assignments: cmd.assignments.map((replicas) => [...replicas]),
          raftGroups: this.takeRaftGroups(cmd.partitions),
          configs: { ...cmd.configs },
          createdAtMs: cmd.timestampMs,
        });
        return { error: null };
      case 'delete-topic':
        this.topicsByName.delete(cmd.name);
        return { error: null };
      case 'create-partitions': {
        const t = this.topicsByName.get(cmd.name)!;
        const assignments = [...t.assignments, ...cmd.assignments.map((replicas) => [...replicas])];
        assert(assignments.length === cmd.totalCount, 'added partitions do not reach the requested count');
        const raftGroups = [...t.raftGroups, ...this.takeRaftGroups(cmd.totalCount - t.partitions)];
        this.topicsByName.set(cmd.name, { ...t, partitions: cmd.totalCount, assignments, raftGroups });
        return { error: null };
      }
      case 'alter-configs': {
        const t = this.topicsByName.get(cmd.name)!;
        const configs = { ...t.configs, ...cmd.set };
        for (const key of cmd.remove) delete configs[key];
        this.topicsByName.set(cmd.name, { ...t, configs });
        return { error: null };
      }
      case 'allocate-producer-ids': {
        const first = this.nextProducerId;
        this.nextProducerId += BigInt(cmd.count);
        return { error: null, firstProducerId: first };
      }
      case 'register-broker':
        this.brokersById.set(cmd.id, brokerRecord(cmd, this.brokersById.get(cmd.id), this.holds(cmd.id), this.nextRaftGroup));
        return { error: null };
      case 'drain-broker': {
        const { draining: _old, autoDrained: _auto, ...rest } = this.brokersById.get(cmd.id)!;
        this.brokersById.set(cmd.id, cmd.draining ? { ...rest, draining: true, ...(cmd.automatic === true ? { autoDrained: true } : {}) } : rest);
        return { error: null };
      }
      case 'unregister-broker':
        this.brokersById.delete(cmd.id);
        return { error: null };
      case 'create-acls': {
        const added = cmd.bindings.filter((b, i) => !this.aclList.some((old) => sameBinding(old, b)) && cmd.bindings.findIndex((c) => sameBinding(c, b)) === i);
        if (added.length > 0) this.aclList = [...this.aclList, ...added.map((b) => ({ ...b }))];
        return { error: null };
      }
      case 'delete-acls':
        this.aclList = this.aclList.filter((old) => !cmd.bindings.some((b) => sameBinding(old, b)));
        return { error: null };
      case 'upsert-scram-credentials':
        for (const c of cmd.credentials) {
          const mine = this.scram.get(c.user) ?? this.scram.set(c.user, new Map()).get(c.user)!;
          if (!cmd.ifAbsent || !mine.has(c.mechanism)) mine.set(c.mechanism, { ...c });
        }
        return { error: null };
      case 'alter-client-quotas':
        for (const change of cmd.changes) this.quotaList = applyQuotaChange(this.quotaList, change);
        return { error: null };
      case 'delete-scram-credentials':
        for (const c of cmd.credentials) {
          const mine = this.scram.get(c.user)!;
          mine.delete(c.mechanism as ScramMechanismCode);
          if (mine.size === 0) this.scram.delete(c.user);
        }
        return { error: null };
      case 'reassign-partitions': {
        const t = this.topicsByName.get(cmd.name)!;
        const reassignments: Record<number, readonly number[]> = { ...t.reassignments };
        const leaving: Record<number, readonly number[]> = { ...t.leaving };
        for (const move of cmd.moves) {
          const current = t.assignments[move.index]!;
          const old = reassignments[move.index];
          // A target equal to the assignment is no move at all (as Kafka, it also cancels one under way).
          const same = move.replicas !== null && move.replicas.length === current.length && move.replicas.every((id, i) => id === current[i]);
          if (move.replicas === null || same) delete reassignments[move.index];
          else reassignments[move.index] = [...move.replicas];
          // Brokers of the old target that the new one drops may already be members: they leave through the group.
          const wanted = reassignments[move.index] ?? current;
          const dropped = (old ?? []).filter((id) => !wanted.includes(id) && !current.includes(id));
          const still = [...(leaving[move.index] ?? []), ...dropped].filter((id, i, all) => all.indexOf(id) === i && !wanted.includes(id) && !current.includes(id));
          if (still.length > 0) leaving[move.index] = still;
          else delete leaving[move.index];
        }
        this.topicsByName.set(cmd.name, withMoves(t, reassignments, leaving));
        return { error: null };
      }
      case 'complete-reassignment': {
        const t = this.topicsByName.get(cmd.name)!;
        const reassignments: Record<number, readonly number[]> = { ...t.reassignments };
        const leaving: Record<number, readonly number[]> = { ...t.leaving };
        delete reassignments[cmd.index];
        delete leaving[cmd.index];
        const assignments = t.assignments.map((replicas, i) => (i === cmd.index ? [...cmd.replicas] : replicas));
        const initialVoters = { ...t.initialVoters };
        initialVoters[cmd.index] ??= t.assignments[cmd.index]!;
        this.topicsByName.set(cmd.name, { ...withMoves(t, reassignments, leaving), assignments, initialVoters });
        return { error: null };
      }
    }
  }

  snapshot(): ClusterSnapshotV2 {
    return {
      version: 2,
      clusterId: this.clusterId,
      brokers: this.brokers(),
      topics: this.topics(),
      nextProducerId: this.nextProducerId.toString(),
      nextRaftGroup: this.nextRaftGroup,
      ...(this.aclList.length === 0 ? {} : { acls: this.aclList.map((b) => ({ ...b })) }),
      ...(this.scram.size === 0 ? {} : { scramCredentials: this.scramUsers().flatMap((u) => u.credentials.map((c) => ({ ...c }))) }),
      ...(this.quotaList.length === 0 ? {} : { clientQuotas: this.quotaList.map((q) => ({ entity: q.entity.map((p) => ({ ...p })), values: { ...q.values } })) }),
    };
  }

  /** Whether any partition holds or is moving a replica to broker `id`. */
  holds(id: number): boolean {
    for (const t of this.topicsByName.values()) for (let p = 0; p < t.partitions; p++) if (replicaSet(t, p).includes(id)) return true;
    return false;
  }

  /** Partitions being moved, over every topic. */
  reassignmentCount(): number {
    let n = 0;
    for (const t of this.topicsByName.values()) if (t.reassignments !== undefined || t.leaving !== undefined) n += partitionsMoving(t).length;
    return n;
  }

  private takeRaftGroups(count: number): number[] {
    const first = this.nextRaftGroup;
    this.nextRaftGroup += count;
    assert(this.nextRaftGroup <= RAFT_GROUP_MAX + 1, 'partition Raft group ids are exhausted');
    return Array.from({ length: count }, (_, i) => first + i);
  }

  /**
   * soloBrokerId: as for the constructor. A version-1 snapshot was written by a single broker, so its
   * partitions get that broker (which must then be given) as their only replica.
   */
  static restore(snapshot: ClusterSnapshot, soloBrokerId: number | null): ClusterState {
    const state = new ClusterState(snapshot.clusterId, soloBrokerId);
    switch (snapshot.version) {
      case 1:
        for (const t of snapshot.topics) {
          assert(soloBrokerId !== null, 'a version-1 metadata snapshot needs the id of the broker that wrote it');
          assert(t.replicationFactor === 1, `topic ${t.name} in a version-1 metadata snapshot has replication factor ${t.replicationFactor}`);
          state.topicsByName.set(t.name, { ...t, assignments: Array.from({ length: t.partitions }, () => [soloBrokerId]), raftGroups: [] });
        }
        break;
      case 2:
        for (const b of snapshot.brokers) state.brokersById.set(b.id, b);
        if (snapshot.nextRaftGroup !== undefined) state.nextRaftGroup = snapshot.nextRaftGroup;
        if (snapshot.acls !== undefined) state.aclList = snapshot.acls;
        if (snapshot.clientQuotas !== undefined) state.quotaList = snapshot.clientQuotas;
        for (const c of snapshot.scramCredentials ?? []) (state.scram.get(c.user) ?? state.scram.set(c.user, new Map()).get(c.user)!).set(c.mechanism, c);
        for (const t of snapshot.topics) {
          assert(t.assignments.length === t.partitions, `topic ${t.name} has ${t.partitions} partitions but ${t.assignments.length} assignments`);
          state.topicsByName.set(t.name, t);
        }
        break;
      default:
        assert(false, `unknown metadata snapshot version ${(snapshot as { version: unknown }).version}`);
    }
    state.nextProducerId = BigInt(snapshot.nextProducerId);
    // Snapshots from before partition Raft groups: ids for every partition, in topic-name order, so
    // every broker restoring the same snapshot hands out the same ids.
    for (const t of [...state.topicsByName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (t.raftGroups === undefined || t.raftGroups.length !== t.partitions) {
        state.topicsByName.set(t.name, { ...t, raftGroups: state.takeRaftGroups(t.partitions) });
      }
    }
    return state;
  }
}

/** The topic with these targets and leaving brokers; each field is left out when empty. */
function withMoves(t: TopicRecord, reassignments: Record<number, readonly number[]>, leaving: Record<number, readonly number[]>): TopicRecord {
  const { reassignments: _targets, leaving: _leaving, ...rest } = t;
  return {
    ...rest,
    ...(Object.keys(reassignments).length === 0 ? {} : { reassignments }),
    ...(Object.keys(leaving).length === 0 ? {} : { leaving }),
  };
}
