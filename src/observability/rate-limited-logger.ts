/**
 * A logger whose info, warn and error lines are rate-limited per message: at most `perWindow` lines
 * with the same message in each window of `windowMs`; the first line of a later window reports how
 * many were left out (`suppressed`). Used where a remote peer decides how often a line is written
 * (a client reconnecting in a tight loop, each connection closed for the same reason), so that it
 * cannot fill the disk with the log. Debug and trace lines pass unchanged.
 */
import type { LogFn } from 'pino';
import type { Logger } from './logger.ts';

export interface RateLimit {
  readonly perWindow: number;
  readonly windowMs: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perWindow: 10, windowMs: 60_000 };

interface Window {
  startedAt: number;
  written: number;
  suppressed: number;
}

/** Counts lines per key; says whether a line may be written and how many were dropped before it. */
export class LineRateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
  ) {}

  /** null: drop the line. A number: write it, reporting that many suppressed lines (0: none). */
  take(key: string): number | null {
    const now = this.now();
    let w = this.windows.get(key);
    if (w === undefined || now - w.startedAt >= this.limit.windowMs) {
      const suppressed = w?.suppressed ?? 0;
      w = { startedAt: now, written: 0, suppressed: 0 };
      this.windows.set(key, w);
      w.written++;
      return suppressed;
    }
    if (w.written < this.limit.perWindow) {
      w.written++;
      return 0;
    }
    w.suppressed++;
    return null;
  }
}

const LIMITED_LEVELS = ['info', 'warn', 'error'] as const;

/** A child of `log` whose info/warn/error lines go through `limiter`, keyed by level and message. */
export function rateLimitedLogger(log: Logger, limiter: LineRateLimiter): Logger {
  const limited = log.child({});
  for (const level of LIMITED_LEVELS) {
    const write = limited[level].bind(limited) as (...args: unknown[]) => void;
    limited[level] = ((first: unknown, ...rest: unknown[]) => {
      const message = typeof first === 'string' ? first : String(rest[0] ?? '');
      const suppressed = limiter.take(`${level} ${message}`);
      if (suppressed === null) return;
      if (suppressed === 0) return write(first, ...rest);
      const fields = typeof first === 'object' && first !== null ? first : {};
      const args = typeof first === 'string' ? [first, ...rest] : rest;
      write({ ...fields, suppressed }, ...args);
    }) as LogFn;
  }
  return limited;
}
