/** A pino logger whose JSON lines the test can read back. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/observability/logger.ts';

export type LogLine = Record<string, unknown>;

export function captureLog(level = 'debug'): { log: Logger; lines: () => LogLine[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString());
      done();
    },
  });
  const log = pino({ level }, stream) as unknown as Logger;
  return { log, lines: () => out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine) };
}
