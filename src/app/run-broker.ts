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

  const metrics = createMetrics({ brokerId: config.server.brokerId });
  const parts = await buildBroker(config, log, metrics);
  const app = new BrokerApp(parts);

  let signals = 0;
  let resolveStop!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (resolveStop = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal }, 'second signal, exiting at once');
      process.exit(1);
    }
    log.info({ signal }, 'signal received, stopping');
    const deadline = setTimeout(() => {
      log.error({ timeoutMs: config.server.shutdownTimeout }, 'graceful stop timed out, exiting');
      process.exit(1);
    }, config.server.shutdownTimeout);
    deadline.unref();
    app.stop().then(
      () => resolveStop(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        resolveStop(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await app.start();
  } catch (err) {
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
