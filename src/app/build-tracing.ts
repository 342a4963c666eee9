/**
 * Tracing for one broker (observability.tracing): the OpenTelemetry SDK and its gRPC exporter are
 * imported here, on demand, only when tracing is enabled; a broker without tracing never loads them.
 * The returned service does nothing at start and, at stop, exports what is still queued within a
 * short bound. It is started first, so it stops last, after the listener drained in-flight requests.
 */
import type { BrokerConfig } from '../config/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { BrokerMetrics } from '../observability/metrics.ts';
import type { Tracing } from '../observability/tracing.ts';
import { VERSION } from '../util/version.ts';
import type { Service } from './broker-app.ts';

/** Longest a stop waits for queued spans to reach the collector. */
export const TRACING_FLUSH_TIMEOUT_MS = 2_000;

export async function buildTracing(config: BrokerConfig, log: Logger, metrics: BrokerMetrics): Promise<{ tracing: Tracing; service: Service } | null> {
  const settings = config.observability.tracing;
  if (!settings.enabled) return null;
  // A literal specifier, so bundlers (bun build --compile) include the module.
  const { OtelTracing } = await import('../observability/otel-tracing.ts');
  const tracing = new OtelTracing(
    { endpoint: settings.endpoint, samplingRate: settings.samplingRate, brokerId: config.server.brokerId, version: VERSION },
    metrics.registry,
    log.child({ component: 'tracing' }),
  );
  return {
    tracing,
    service: {
      name: 'tracing',
      start: async () => undefined,
      stop: () => tracing.shutdown(TRACING_FLUSH_TIMEOUT_MS),
    },
  };
}
