/**
 * The broker's logger: pino, writing JSON lines (or a compact human format for terminals) to stdout,
 * stderr or a file rotated by size with a bounded number of backups and a maximum age.
 *
 * Rotation is rotating-file-stream's; this module only adds the age limit, which that library lacks,
 * by pruning rotated files older than `maxAgeDays` after each rotation and at start.
 * Secrets never reach this module's callers' messages: config printing masks them before logging.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import { createStream } from 'rotating-file-stream';
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { formatPrettyLine } from './pretty-format.ts';

export type { Logger };

export interface LoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** 'stdout', 'stderr', or a file path. */
  output: string;
  maxSizeBytes: number;
  maxBackups: number;
  maxAgeDays: number;
}

export interface BrokerLogger {
  logger: Logger;
  /** Flushes and closes the destination; resolves once everything written so far is out. */
  close(): Promise<void>;
}

const MS_PER_DAY = 86_400_000;

export function createLogger(options: LoggerOptions): BrokerLogger {
  const { stream, close } = openDestination(options);
  const destination = options.format === 'pretty' ? prettyStream(stream) : stream;
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination as DestinationStream,
  );
  return { logger, close };
}

function openDestination(options: LoggerOptions): { stream: NodeJS.WritableStream; close: () => Promise<void> } {
  if (options.output === 'stdout' || options.output === 'stderr') {
    const fd = options.output === 'stdout' ? 1 : 2;
    const stream = pino.destination({ dest: fd, sync: true });
    return { stream: stream as unknown as NodeJS.WritableStream, close: async () => stream.flushSync() };
  }
  const file = options.output;
  const folder = dirname(file);
  mkdirSync(folder, { recursive: true });
  const rotating = createStream(basename(file), {
    path: folder,
    size: `${Math.max(1, Math.floor(options.maxSizeBytes / 1024))}K`,
    rotate: Math.max(1, options.maxBackups),
  });
  const prune = () => pruneOldBackups(folder, basename(file), options.maxAgeDays);
  rotating.on('rotated', prune);
  // A rotation problem (a full disk, a permission change) must not take the broker down.
  rotating.on('error', (err) => process.stderr.write(`streambus: log file ${file}: ${err.message}\n`));
  rotating.on('warning', (err) => process.stderr.write(`streambus: log file ${file}: ${err.message}\n`));
  prune();
  return {
    stream: rotating,
    close: () => new Promise((resolve) => rotating.end(() => resolve())),
  };
}

/** Deletes rotated copies (`name.1`, `name.2`, ...) older than maxAgeDays; 0 keeps them regardless of age. */
export function pruneOldBackups(folder: string, name: string, maxAgeDays: number, nowMs = Date.now()): string[] {
  if (maxAgeDays <= 0) return [];
  const removed: string[] = [];
  const rotatedName = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+(\\.gz)?$`);
  for (const entry of readdirSync(folder)) {
    if (!rotatedName.test(entry)) continue;
    const path = join(folder, entry);
    try {
      if (nowMs - statSync(path).mtimeMs > maxAgeDays * MS_PER_DAY) {
        unlinkSync(path);
        removed.push(path);
      }
    } catch {
      // Already gone (a concurrent rotation): nothing to prune.
    }
  }
  return removed;
}

function prettyStream(target: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) target.write(formatPrettyLine(line) + '\n');
      }
      callback();
    },
  });
}
