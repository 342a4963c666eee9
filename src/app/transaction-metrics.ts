/**
 * Transaction metrics of the coordinators on this broker: transactional ids and open transactions
 * (read at scrape time), transactions ended by outcome, and how long they were open, from the first
 * partition added to the decision stored (Kafka's transaction duration).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TxnRouter } from '../transactions/txn-router.ts';

export interface TransactionMetrics {
  ended(commit: boolean, durationMs: number): void;
}

export function registerTransactionMetrics(registry: Registry, router: () => TxnRouter | undefined): TransactionMetrics {
  // Both gauges read one listing of every transactional id coordinated here, not one listing each.
  const listed = perScrape(() => router()?.list().transactions ?? []);
  new Gauge({
    name: 'streambus_transactional_ids',
    help: 'Transactional ids whose coordinator is this broker',
    registers: [registry],
    collect() {
      this.set(listed().length);
    },
  });
  new Gauge({
    name: 'streambus_transactions_ongoing',
    help: 'Transactions open or being decided on the coordinators of this broker',
    registers: [registry],
    collect() {
      this.set(listed().filter((t) => t.state === 'Ongoing' || t.state === 'PrepareCommit' || t.state === 'PrepareAbort').length);
    },
  });
  const ended = new Counter({ name: 'streambus_transactions_ended_total', help: 'Transactions ended by the coordinators of this broker, by result (commit, abort)', labelNames: ['result'], registers: [registry] });
  const duration = new Histogram({
    name: 'streambus_transaction_duration_seconds',
    help: 'How long transactions were open, from their first partition to their end, by result',
    labelNames: ['result'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  });
  return {
    ended(commit, durationMs) {
      const result = commit ? 'commit' : 'abort';
      ended.inc({ result });
      duration.observe({ result }, Math.max(0, durationMs) / 1000);
    },
  };
}

/**
 * `read`, called once per scrape however many metrics ask: prom-client runs every metric's collect()
 * in one synchronous pass at the start of a scrape, so a value kept until the next microtask is shared
 * by that pass and never seen by the next scrape.
 */
function perScrape<T>(read: () => T): () => T {
  let kept: { readonly value: T } | null = null;
  return () => {
    if (kept === null) {
      kept = { value: read() };
      queueMicrotask(() => (kept = null));
    }
    return kept.value;
  };
}
