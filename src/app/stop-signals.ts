/**
 * What SIGTERM and SIGINT do to a running broker: the first starts a graceful stop bounded by
 * `timeoutMs` (past it the process exits 1); a second signal exits 1 at once. `exit` and the timer are
 * injected so the rules are tested without killing anything.
 */
import type { Logger } from '../observability/logger.ts';

export interface StopSignalOptions {
  stop(): Promise<void>;
  timeoutMs: number;
  log: Logger;
  exit(code: number): void;
  setTimer?: (fn: () => void, ms: number) => { unref?(): void };
}

/** Returns the handler to register for SIGTERM and SIGINT, and a promise of the exit code. */
export function stopOnSignals(options: StopSignalOptions): { onSignal: (signal: NodeJS.Signals) => void; stopped: Promise<number> } {
  let signals = 0;
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (resolveStopped = resolve));
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      options.log.warn({ signal }, 'second signal, exiting at once');
      options.exit(1);
      return;
    }
    options.log.info({ signal }, 'signal received, stopping');
    setTimer(() => {
      options.log.error({ timeoutMs: options.timeoutMs }, 'graceful stop timed out, exiting');
      options.exit(1);
    }, options.timeoutMs).unref?.();
    options.stop().then(
      () => resolveStopped(0),
      (err: unknown) => {
        options.log.error({ err }, 'stop failed');
        resolveStopped(1);
      },
    );
  };
  return { onSignal, stopped };
}
