/**
 * Periodic log maintenance: retention (time and size, every 5 minutes as Kafka's
 * log.retention.check.interval.ms) with expiry of long-idle idempotent producers, compaction of compacted topics (every storage.compactionInterval),
 * and the abort of transactions open longer than transaction.max.timeout.ms (every minute, leaders only).
 * Retention runs through the partition's append queue because deleting segments and appending must not
 * overlap; compaction runs beside appends (it only rewrites closed segments).
 */
import type { Clock } from '../io/clock.ts';
import { every, type PeriodicTimer } from '../io/periodic-timer.ts';
import type { Logger } from '../observability/logger.ts';
import type { PartitionManager } from '../replication/partition-manager.ts';
import type { Partition } from '../replication/partition.ts';
import type { Log } from '../storage/log.ts';
import { compactLog } from '../storage/compaction.ts';
import type { Service } from './broker-app.ts';

export const RETENTION_CHECK_INTERVAL_MS = 5 * 60_000;
/**
 * Kafka's transaction.max.timeout.ms: no transaction may stay open longer. The coordinator aborts a
 * transaction at its own timeout; partition leaders abort one still open past this (a producer that
 * vanished, or transactional data written without a coordinator), so read_committed consumers are
 * never held for ever (Partition.abortStaleTransactions).
 */
export const TRANSACTION_MAX_TIMEOUT_MS = 15 * 60_000;
/** How often leaders look for transactions open past TRANSACTION_MAX_TIMEOUT_MS. */
export const STALE_TRANSACTIONS_CHECK_MS = 60_000;
/** Idle producers are forgotten after a day (Kafka's producer.id.expiration.ms). */
export const PRODUCER_ID_EXPIRATION_MS = 24 * 3600_000;

/**
 * `retainReplicated` runs retention on a partition replicated by Raft (the Raft log must follow the
 * segment log's start; partition-replicas.ts). `staleAborted` hears of every transaction a leader
 * aborted for being open too long (the group coordinator drops the offsets it held pending for it). Compaction runs on every replica by itself, below its
 * high watermark (applied there), keeping every batch: each is a Raft entry (docs/replication.md
 * "Compaction").
 */
export function logMaintenance(
  partitions: PartitionManager,
  compactionIntervalMs: number,
  log: Logger,
  clock: Clock,
  retainReplicated: (partition: Partition, nowMs: number) => Promise<number> = () => Promise.resolve(0),
  staleAborted: (partition: Partition, producerId: bigint) => void = () => undefined,
): Service {
  const now = () => clock.now();
  const timers: PeriodicTimer[] = [];
  let running: Promise<void> = Promise.resolve();
  const serially = (work: () => Promise<void>) => {
    running = running.then(work).catch((err: unknown) => log.error({ err }, 'log maintenance failed'));
  };

  const retention = async () => {
    for (const p of partitions.all()) {
      p.producers.expire(now(), PRODUCER_ID_EXPIRATION_MS);
      const before = p.logStartOffset;
      const run = p.replicated ? retainReplicated(p, now()) : p.maintain(() => p.applyRetention(now()));
      const deleted = await run.catch((err: unknown) => {
        log.warn({ err, topic: p.topic, partition: p.index }, 'retention failed');
        return 0;
      });
      if (deleted > 0) log.info({ topic: p.topic, partition: p.index, segments: deleted, logStartOffset: p.logStartOffset, before }, 'retention deleted segments');
    }
  };
  const staleTransactions = async () => {
    for (const p of partitions.all()) {
      const aborted = await p.abortStaleTransactions(now(), TRANSACTION_MAX_TIMEOUT_MS).catch((err: unknown) => {
        log.warn({ err, topic: p.topic, partition: p.index }, 'aborting a transaction open too long failed; retried at the next check');
        return [];
      });
      for (const producerId of aborted) {
        staleAborted(p, producerId);
        log.warn({ topic: p.topic, partition: p.index, producerId: String(producerId), maxOpenMs: TRANSACTION_MAX_TIMEOUT_MS }, 'transaction open longer than transaction.max.timeout.ms aborted by the partition leader');
      }
    }
  };
  const compaction = async () => {
    for (const p of partitions.all()) {
      // Below the high watermark only: a record above it may still be lost or truncated, so it must not
      // supersede an older one. And below the last stable offset (Kafka's first unstable offset): a
      // transaction not decided yet keeps its batches whole, so a rebuild of the partition's
      // transactions from the log finds it where it began.
      const limits = { upTo: p.lastStableOffset, keepEmptyBatches: p.replicated };
      const result = await compactLog(p.log as Log, now(), limits).catch((err: unknown) => {
        log.warn({ err, topic: p.topic, partition: p.index }, 'compaction failed');
        return null;
      });
      if (result && result.segmentsRewritten > 0) log.info({ topic: p.topic, partition: p.index, ...result }, 'compacted');
    }
  };

  return {
    name: 'log maintenance',
    async start() {
      timers.push(every(clock, RETENTION_CHECK_INTERVAL_MS, () => serially(retention)));
      timers.push(every(clock, STALE_TRANSACTIONS_CHECK_MS, () => serially(staleTransactions)));
      if (compactionIntervalMs > 0) timers.push(every(clock, compactionIntervalMs, () => serially(compaction)));
    },
    async stop() {
      for (const t of timers) t.cancel();
      await running;
    },
  };
}
