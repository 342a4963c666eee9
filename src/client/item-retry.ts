/**
 * Retries for batch admin requests whose answer holds one error per item (topics, groups): items that
 * failed with a retriable code (NOT_CONTROLLER, COORDINATOR_LOAD_IN_PROGRESS...) are sent again after a
 * backoff, the others keep their first answer. When the retries run out, the remaining items keep their
 * last retriable error. Lost connections retry the whole pending set. `retriable` narrows Kafka's flag
 * where an answer is final for this request (an unknown topic in a delete is not going to appear).
 */
import type { ClientCore } from './client-core.ts';
import { KafkaResponseError } from './kafka-error.ts';

export async function retryItems<T extends { error: KafkaResponseError | null }>(
  core: ClientCore,
  keys: readonly string[],
  send: (pending: string[]) => Promise<Map<string, T>>,
  retriable: (err: KafkaResponseError) => boolean = (err) => err.retriable,
): Promise<Map<string, T>> {
  const done = new Map<string, T>();
  let pending = [...keys];
  let lastRetriable = new Map<string, T>();
  try {
    await core.retry(async () => {
      const answers = await send(pending);
      lastRetriable = new Map();
      for (const key of pending) {
        const a = answers.get(key);
        if (a === undefined) continue;
        if (a.error && retriable(a.error)) lastRetriable.set(key, a);
        else done.set(key, a);
      }
      pending = pending.filter((k) => !done.has(k));
      const first = [...lastRetriable.values()][0];
      if (first?.error) throw first.error;
    });
  } catch (err) {
    if (!(err instanceof KafkaResponseError) || !err.retriable) throw err;
    for (const [key, a] of lastRetriable) done.set(key, a);
  }
  return done;
}
