/**
 * How the controller records a broker, and when it refuses one.
 *
 * A broker is known by its id and by its incarnation id: a UUID generated in its data directory the first
 * time it starts, and kept there. The same id with the same incarnation is the same broker restarting (or
 * moving to a new address): its endpoints are updated. The same id with a different incarnation is a broker
 * whose data directory was wiped or replaced (the guide's "replace failed broker"). It lost the log entries
 * it once acknowledged and the votes it cast, so it must not vote with what it has now (Redpanda issue 9766,
 * KIP-853). It is accepted, and its record says which partition groups it held before
 * (`refillGroupsBelow`): its replicas of those groups start empty and join without voting until the
 * leader has refilled them (partition-replicas.ts, raft.ts checkJoined). Its controller replica does the
 * same on its own (controller-bootstrap.ts).
 * Liveness (heartbeats, fencing) is soft state kept by the controller leader, never recorded here.
 */

export interface BrokerRecord {
  readonly id: number;
  readonly incarnationId: string;
  readonly host: string;
  /** Kafka protocol port. */
  readonly port: number;
  /** Broker-to-broker port (Raft, replication, forwarding). */
  readonly grpcPort: number;
  readonly rack: string | null;
  /** When the broker last registered (the time those endpoints were reported). */
  readonly registeredAtMs: number;
  /**
   * Being decommissioned: no new replicas go to it, and the controller moves the ones it holds to
   * other brokers (metadata/drain-plan.ts). Kept across its restarts; cleared by recommissioning.
   */
  readonly draining?: true;
  /**
   * Draining because it was unreachable for longer than cluster.deadBrokerTimeout, not because an
   * operator decommissioned it: undone once it is back.
   */
  readonly autoDrained?: true;
  /**
   * Set when the broker came back with a new incarnation (a replaced or wiped disk): the partition Raft
   * groups with lower ids existed before, so its empty replicas of them refill before they vote.
   * Kept across its restarts, so a refill interrupted by a crash still does not vote early.
   */
  readonly refillGroupsBelow?: number;
}

export interface RegisterBrokerCommand {
  type: 'register-broker';
  id: number;
  incarnationId: string;
  host: string;
  port: number;
  grpcPort: number;
  rack: string | null;
  timestampMs: number;
}

/** A UUID in its usual dashed lower-case form (as randomUUID makes it), so equal ids compare equal as text. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INT32_MAX = 2 ** 31 - 1;

const isPort = (port: number) => Number.isInteger(port) && port >= 1 && port <= 65_535;

/** Why a registration is refused (a malformed command), or null when it is accepted. */
export function registrationProblem(cmd: RegisterBrokerCommand): { error: 'INVALID_REQUEST'; message: string } | null {
  // A command comes from another broker over the network: a malformed one is refused, never asserted on.
  if (!Number.isInteger(cmd.id) || cmd.id < 0 || cmd.id > INT32_MAX) return invalid(`broker id ${cmd.id} is not an integer from 0 to ${INT32_MAX}`);
  if (!UUID.test(cmd.incarnationId) || /^[0-]+$/.test(cmd.incarnationId)) return invalid(`broker ${cmd.id}: incarnation id ${JSON.stringify(cmd.incarnationId)} is not a non-zero lower-case UUID`);
  if (cmd.host.length === 0) return invalid(`broker ${cmd.id}: host is empty`);
  if (!isPort(cmd.port) || !isPort(cmd.grpcPort)) return invalid(`broker ${cmd.id}: ports ${cmd.port} and ${cmd.grpcPort} must be from 1 to 65535`);
  return null;
}

/**
 * The record after a registration. A restart keeps the broker's marks. A new incarnation that still
 * holds replicas is a replaced disk: it keeps its draining mark and refills the groups that exist now
 * (`nextGroup` is the next partition group id to be allocated). One that holds nothing (decommissioned,
 * then started afresh) starts as a new broker.
 */
export function brokerRecord(cmd: RegisterBrokerCommand, known: BrokerRecord | undefined, holdsReplicas: boolean, nextGroup: number): BrokerRecord {
  const { id, incarnationId, host, port, grpcPort, rack, timestampMs } = cmd;
  const record: BrokerRecord = { id, incarnationId, host, port, grpcPort, rack, registeredAtMs: timestampMs };
  if (known === undefined) return record;
  const marks = { ...(known.draining === true ? { draining: true as const } : {}), ...(known.autoDrained === true ? { autoDrained: true as const } : {}) };
  if (known.incarnationId === incarnationId) {
    return { ...record, ...marks, ...(known.refillGroupsBelow === undefined ? {} : { refillGroupsBelow: known.refillGroupsBelow }) };
  }
  if (!holdsReplicas) return record;
  return { ...record, ...marks, refillGroupsBelow: nextGroup };
}

function invalid(message: string): { error: 'INVALID_REQUEST'; message: string } {
  return { error: 'INVALID_REQUEST', message };
}
