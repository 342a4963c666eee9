/**
 * Prometheus metrics through prom-client, on one registry per broker (tests run several brokers in one
 * process, so nothing is registered on the global default registry). Names follow the deployment guide.
 */
import { Registry, Gauge, collectDefaultMetrics } from 'prom-client';

export interface BrokerMetrics {
  registry: Registry;
  brokerUp: Gauge;
  /** 1 while this broker leads the metadata (controller) group. A single broker always does. */
  raftLeader: Gauge;
  /** The controller's term (leader epoch); 0 for a single broker, which never changes leader. */
  raftTerm: Gauge;
  /** Prometheus text exposition of every metric. */
  render(): Promise<string>;
  contentType: string;
}

export function createMetrics(labels: { brokerId: number }): BrokerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ broker_id: String(labels.brokerId) });
  // process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds, nodejs_* ...
  collectDefaultMetrics({ register: registry });
  const brokerUp = new Gauge({
    name: 'streambus_broker_up',
    help: '1 while the broker is serving, 0 while it starts or stops',
    registers: [registry],
  });
  brokerUp.set(0);
  const raftLeader = new Gauge({
    name: 'streambus_raft_leader',
    help: '1 while this broker is the leader of the metadata (controller) group; a single broker always is once ready',
    registers: [registry],
  });
  raftLeader.set(0);
  const raftTerm = new Gauge({ name: 'streambus_raft_term', help: 'Term (leader epoch) of the metadata group as this broker sees it', registers: [registry] });
  raftTerm.set(0);
  return {
    registry,
    brokerUp,
    raftLeader,
    raftTerm,
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
