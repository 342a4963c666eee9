/**
 * The simulators' step between two events: lets every pending promise callback run (all microtasks
 * drain before an immediate), so asynchronous production code settles in the same order every run.
 */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
