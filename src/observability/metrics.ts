/**
 * Prometheus metrics through prom-client, on one registry per broker (tests run several brokers in one
 * process, so nothing is registered on the global default registry). Names follow the deployment guide.
 */
import { Registry, Gauge, collectDefaultMetrics } from 'prom-client';

export interface BrokerMetrics {
  registry: Registry;
  brokerUp: Gauge;
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
  return {
    registry,
    brokerUp,
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
