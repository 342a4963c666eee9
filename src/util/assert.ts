/**
 * Programmer-error assertions. They stay on in production: a broken invariant crashes loudly rather
 * than corrupting a log silently. Operating errors (disk full, bad client input) never use these.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
