/**
 * How the controller records a broker, and when it refuses one.
 *
 * A broker is known by its id and by its incarnation id: a UUID generated in its data directory the first
 * time it starts, and kept there. The same id with the same incarnation is the same broker restarting (or
 * moving to a new address): its endpoints are updated. The same id with a different incarnation is a broker
 * whose data directory was wiped or replaced. It has lost the log entries it once acknowledged, so letting
 * it vote again under its old id could elect a leader that misses committed data (Redpanda issue 9766,
 * KIP-853). It is refused until an operator unregisters the id (after moving its replicas away, as
 * decommissioning does); it then registers as a new broker.
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

/**
 * Why a registration is refused, or null when it is accepted. `known` is the broker's current record;
 * `holdsReplicas` whether any partition still counts on it. A decommissioned broker (draining, holding
 * nothing) may come back with a new data directory: it lost nothing anyone needs.
 */
export function registrationProblem(
  known: BrokerRecord | undefined,
  cmd: RegisterBrokerCommand,
  holdsReplicas: boolean,
): { error: 'INVALID_REQUEST' | 'INCONSISTENT_BROKER_INCARNATION'; message: string } | null {
  // A command comes from another broker over the network: a malformed one is refused, never asserted on.
  if (!Number.isInteger(cmd.id) || cmd.id < 0 || cmd.id > INT32_MAX) return invalid(`broker id ${cmd.id} is not an integer from 0 to ${INT32_MAX}`);
  if (!UUID.test(cmd.incarnationId) || /^[0-]+$/.test(cmd.incarnationId)) return invalid(`broker ${cmd.id}: incarnation id ${JSON.stringify(cmd.incarnationId)} is not a non-zero lower-case UUID`);
  if (cmd.host.length === 0) return invalid(`broker ${cmd.id}: host is empty`);
  if (!isPort(cmd.port) || !isPort(cmd.grpcPort)) return invalid(`broker ${cmd.id}: ports ${cmd.port} and ${cmd.grpcPort} must be from 1 to 65535`);
  if (known === undefined || known.incarnationId === cmd.incarnationId) return null;
  if (known.draining === true && !holdsReplicas) return null;
  return {
    error: 'INCONSISTENT_BROKER_INCARNATION',
    message:
      `Broker ${cmd.id} registered with incarnation ${cmd.incarnationId}, but the cluster knows it as incarnation ` +
      `${known.incarnationId}: it came back with a different data directory (wiped or replaced), so it may have lost ` +
      `data it acknowledged and may not rejoin under id ${cmd.id}. To add it back, decommission broker ${cmd.id} ` +
      `(streambus broker decommission --id ${cmd.id}) so the cluster moves its replicas away and forgets it, then ` +
      `restart it: it registers as a new broker. If the original data directory still exists, start it with that instead.`,
  };
}

/** The record after a registration: a restart keeps the broker's draining mark; a new incarnation starts afresh. */
export function brokerRecord(cmd: RegisterBrokerCommand, known?: BrokerRecord): BrokerRecord {
  const { id, incarnationId, host, port, grpcPort, rack, timestampMs } = cmd;
  const record = { id, incarnationId, host, port, grpcPort, rack, registeredAtMs: timestampMs };
  return known?.draining === true && known.incarnationId === incarnationId ? { ...record, draining: true } : record;
}

function invalid(message: string): { error: 'INVALID_REQUEST'; message: string } {
  return { error: 'INVALID_REQUEST', message };
}
