/**
 * `streambus broker`: builds a broker from its config and runs it until SIGTERM or SIGINT.
 * The first signal starts a graceful stop (stop accepting, finish in-flight requests, close storage)
 * bounded by server.shutdownTimeout; a second signal exits at once. SIGHUP reloads the TLS
 * certificate, key and CA files (so do changes to them).
 */
import type { BrokerConfig } from '../config/index.ts';
import { inactiveKeysSet } from '../config/index.ts';
import { createLogger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { BrokerApp } from './broker-app.ts';
import { buildBroker } from './build-broker.ts';
import { stopOnSignals } from './stop-signals.ts';

/** How long a fully stopped broker's process may stay open before it exits anyway. */
const EXIT_AFTER_STOP_MS = 1_000;

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
  const tls = parts.tls;
  const reloadTls = () => void tls?.reload('SIGHUP');
  if (tls !== undefined) {
    tls.watch();
    process.on('SIGHUP', reloadTls);
  }
  const forgetTls = () => {
    tls?.stop();
    process.off('SIGHUP', reloadTls);
  };

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
      forgetTls();
      await closeLog();
      return code;
    }
    log.fatal({ err }, 'broker failed to start');
    await app.stop().catch(() => undefined);
    forgetTls();
    await closeLog();
    return 1;
  }
  const code = await stopped;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  forgetTls();
  await closeLog();
  // The stop is complete and the log flushed: if something still holds the process open (a native
  // file close that never settled in the compiled binary, docs/containers.md), it exits with this
  // code after a second rather than at server.shutdownTimeout with 1. Unref'd: a process with
  // nothing left exits at once as before.
  setTimeout(() => process.exit(code), EXIT_AFTER_STOP_MS).unref();
  return code;
}
