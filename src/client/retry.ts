/**
 * Bounded retries for client requests. Retried: Kafka error codes that Kafka's table marks retriable
 * (leader moved, coordinator loading, topic being created...) and lost connections. Everything else
 * fails at once. Backoff doubles from `backoffMs` up to `backoffMaxMs`; at most `retries` retries.
 */
import { isStreamBusError } from '../util/errors.ts';
import { KafkaResponseError } from './kafka-error.ts';

export interface RetryOptions {
  retries: number;
  backoffMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 5, backoffMs: 100, backoffMaxMs: 1000 };

export function isRetriableError(err: unknown): boolean {
  if (err instanceof KafkaResponseError) return err.retriable;
  return isStreamBusError(err, 'SB_ERR_IO') || isStreamBusError(err, 'SB_ERR_CLOSED');
}

/**
 * Runs `attempt` until it resolves, an error `shouldRetry` refuses occurs, or the retries are used up
 * (then the last error is thrown). `onRetry` runs before each new attempt: the place to refresh metadata or drop a
 * dead connection.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  options: RetryOptions,
  onRetry?: (err: unknown) => void | Promise<void>,
  shouldRetry: (err: unknown) => boolean = isRetriableError,
): Promise<T> {
  let delay = options.backoffMs;
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= options.retries || !shouldRetry(err)) throw err;
      await onRetry?.(err);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, options.backoffMaxMs);
    }
  }
}
