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
import type { AbortedTransaction } from '../replication/partition-transactions.ts';
import type { Log } from '../storage/log.ts';
import { compactLog, type CompactionResult, type MarkerRemoval } from '../storage/compaction.ts';
import type { Service } from './broker-app.ts';

export const RETENTION_CHECK_INTERVAL_MS = 5 * 60_000;
/**
 * Partition leaders abort a transaction they have seen open for twice kafka.transactionMaxTimeoutMs
 * (Partition.abortStaleTransactions): transactional data no coordinator will ever decide (a client that
 * wrote it without AddPartitionsToTxn, or without a coordinator) must not hold read_committed
 * consumers for ever. Twice, not once: the coordinator aborts every transaction at its own timeout (at
 * most the maximum), and a transaction it decided must get its markers, which may take a while when a
 * partition has no leader; only a partition that got no marker for a whole further maximum after the
 * latest possible decision acts alone (docs/transactions.md).
 */
export const STALE_TRANSACTION_FACTOR = 2;
/** How often leaders look for stale transactions. */
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
  transactionMaxTimeoutMs = 15 * 60_000,
  staleAborted: (partition: Partition, producerId: bigint) => void = () => undefined,
): Service {
  const staleAfterMs = STALE_TRANSACTION_FACTOR * transactionMaxTimeoutMs;
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
      const aborted = await p.abortStaleTransactions(now(), staleAfterMs).catch((err: unknown) => {
        log.warn({ err, topic: p.topic, partition: p.index }, 'aborting a transaction open too long failed; retried at the next check');
        return [];
      });
      for (const producerId of aborted) {
        staleAborted(p, producerId);
        log.warn({ topic: p.topic, partition: p.index, producerId: String(producerId), maxOpenMs: staleAfterMs }, 'transaction open for twice transaction.max.timeout.ms without a marker aborted by the partition leader');
      }
    }
  };
  const compaction = async () => {
    for (const p of partitions.all()) {
      const result = await compactPartition(p, now()).catch((err: unknown) => {
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

/**
 * Compacts one partition's log (if its policy says so) at `nowMs`. Below the high watermark only: a
 * record above it may still be lost or truncated, so it must not supersede an older one. And below
 * the last stable offset (Kafka's first unstable offset): a transaction not decided yet keeps its
 * batches whole, so a rebuild of the partition's transactions from the log finds it where it began.
 * Markers of transactions with nothing left go on a single broker only: a replicated log keeps every
 * batch (each is a Raft entry), its transactions' batches too, and so their markers. On a single
 * broker the last batch of each producer the partition still tracks stays too (its sequence).
 */
export function compactPartition(p: Partition, nowMs: number): Promise<CompactionResult> {
  const upTo = p.lastStableOffset;
  return compactLog(p.log as Log, nowMs, {
    upTo,
    keepEmptyBatches: p.replicated,
    isAborted: abortedLookup(p.abortedTransactions(p.logStartOffset, upTo)),
    ...(p.replicated ? {} : { markers: markerRemoval(p), keepsProducer: producerTracked(p) }),
  });
}

/** Whether the partition still keeps the state of a producer (it has not expired). */
function producerTracked(p: Partition): (producerId: bigint) => boolean {
  return (producerId) => p.producers.epochOf(producerId) !== undefined;
}

/** Compaction's view of a single broker's partition for the removal of transaction markers. */
function markerRemoval(p: Partition): MarkerRemoval {
  return {
    isProducerActive: producerTracked(p),
    beforeRemoval: (markers) => p.forgetRemovedMarkers(markers),
  };
}

/**
 * Whether a transactional batch (its producer and base offset) lies in one of `aborted` (each
 * [firstOffset, lastOffset) of one producer, lastOffset its abort marker), for compaction.
 */
export function abortedLookup(aborted: readonly AbortedTransaction[]): (producerId: bigint, offset: number) => boolean {
  const byProducer = new Map<bigint, AbortedTransaction[]>();
  for (const t of aborted) byProducer.set(t.producerId, [...(byProducer.get(t.producerId) ?? []), t]);
  return (producerId, offset) => byProducer.get(producerId)?.some((t) => t.firstOffset <= offset && offset < t.lastOffset) ?? false;
}
