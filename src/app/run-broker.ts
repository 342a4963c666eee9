/**
 * `streambus broker`: builds a broker from its config and runs it until SIGTERM or SIGINT.
 * The first signal starts a graceful stop (stop accepting, finish in-flight requests, close storage)
 * bounded by server.shutdownTimeout; a second signal exits at once.
 */
import type { BrokerConfig } from '../config/index.ts';
import { inactiveKeysSet } from '../config/index.ts';
import { createLogger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { BrokerApp } from './broker-app.ts';
import { buildBroker } from './build-broker.ts';
import { stopOnSignals } from './stop-signals.ts';

export async function runBroker(config: BrokerConfig): Promise<number> {
  const { logger: log, close: closeLog } = createLogger({
    level: config.logging.level,
    format: config.logging.format,
    output: config.logging.output,
    maxSizeBytes: config.logging.maxSize,
    maxBackups: config.logging.maxBackups,
    maxAgeDays: config.logging.maxAge,
  });
  const inactive = inactiveKeysSet(config);
  if (inactive.length > 0) log.warn({ keys: inactive }, 'configuration keys accepted but not active yet');
  // Asking for TLS or authentication and silently getting neither would mislead an operator about
  // what the network sees: say it loudly, once, at error level.
  if (config.security.tls.enabled || config.security.authentication.enabled) {
    log.error(
      { tls: config.security.tls.enabled, authentication: config.security.authentication.enabled },
      'TLS and authentication are not available in this release: the Kafka and HTTP listeners accept plaintext, unauthenticated connections; restrict them to a trusted network',
    );
  }

  const metrics = createMetrics({ brokerId: config.server.brokerId });
  const parts = await buildBroker(config, log, metrics);
  const app = new BrokerApp(parts);

  const { onSignal, stopped } = stopOnSignals({
    stop: () => app.stop(),
    timeoutMs: config.server.shutdownTimeout,
    log,
    exit: (code) => process.exit(code),
  });
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await app.start();
  } catch (err) {
    if (app.stopRequested) {
      // Stopped by a signal while starting (waiting for a cluster quorum, say): a normal stop.
      log.info({ reason: (err as Error).message }, 'stopped before the start completed');
      const code = await stopped;
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await closeLog();
      return code;
    }
    log.fatal({ err }, 'broker failed to start');
    await app.stop().catch(() => undefined);
    await closeLog();
    return 1;
  }
  const code = await stopped;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  await closeLog();
  return code;
}
