// Producers for the fault tests: each writes numbered messages (`<name>:<sequence>`, see
// delivery-checks.ts) with acks=all and fills its ledger with what the brokers acknowledged.
import { runKcat } from '../helpers/kcat.ts';
import { valueOf, type ProducerLedger } from './delivery-checks.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `STREAMBUS_TEST_KCAT_DEBUG=eos,protocol` turns on librdkafka's debug contexts, to see why a batch failed. */
const KCAT_DEBUG = process.env.STREAMBUS_TEST_KCAT_DEBUG ? ['-X', `debug=${process.env.STREAMBUS_TEST_KCAT_DEBUG}`] : [];

export interface KcatProducerOptions {
  /** Bootstrap brokers, asked again for every batch (a test may leave out a broker it cut off). */
  readonly brokers: () => readonly string[];
  readonly topic: string;
  /** librdkafka settings as `-X` arguments (`['-X', 'enable.idempotence=true']`). */
  readonly settings: readonly string[];
  /** The partition of every message; by default librdkafka picks one from each message's key. */
  readonly partition?: number;
  readonly batch: number;
  readonly batchesMax: number;
  readonly paceMs: number;
  /** Once this holds, `afterStop` more batches are sent and the producer ends. */
  readonly stop: () => boolean;
  readonly afterStop: number;
  readonly deadline: number;
  readonly timeoutMs: number;
  /** Receives kcat's whole stderr of every failed batch (for a test's failure report). */
  readonly onFailure?: (batch: string, stderr: string) => void;
  /** Awaited before each batch: lets a test change the network between two batches. */
  readonly beforeBatch?: () => Promise<void>;
}

/**
 * Sends batches through kcat, one child process per batch. kcat cannot say which messages of a batch
 * were delivered, so a batch counts as acknowledged only as a whole: exit status 0 and no delivery
 * failure printed. Returns the batches that failed, with kcat's last words.
 */
export async function produceWithKcat(book: ProducerLedger, o: KcatProducerOptions): Promise<string[]> {
  const failures: string[] = [];
  let after = 0;
  for (let b = 0; b < o.batchesMax && after < o.afterStop && Date.now() < o.deadline; b++) {
    await o.beforeBatch?.();
    if (o.stop()) after++;
    const first = book.sent;
    book.sent += o.batch;
    const lines: string[] = [];
    for (let s = first; s < book.sent; s++) lines.push(`${book.name}-${s}|${valueOf(book.name, s)}`);
    const target = o.partition === undefined ? [] : ['-p', String(o.partition)];
    const run = await runKcat(
      ['-b', o.brokers().join(','), '-P', '-t', o.topic, ...target, '-K', '|', '-X', 'acks=all', '-X', 'message.timeout.ms=30000', '-X', 'linger.ms=5', '-X', 'retry.backoff.ms=100', ...KCAT_DEBUG, ...o.settings],
      lines.join('\n') + '\n',
      o.timeoutMs,
    );
    if (run.code === 0 && !/delivery failed/i.test(run.stderr)) {
      for (let s = first; s < book.sent; s++) book.acked.add(s);
    } else {
      failures.push(`batch ${first}..${book.sent - 1}: exit ${run.code} after ${run.elapsedMs} ms: ${run.stderr.trim().split('\n').slice(-3).join(' / ')}`);
      o.onFailure?.(`${book.name}-${first}`, run.stderr);
    }
    await sleep(o.paceMs);
  }
  return failures;
}

export interface KafkajsSendsOptions {
  readonly topic: string;
  readonly batch: number;
  readonly sendsMax: number;
  readonly paceMs: number;
  /** The partition of send number `n` (each send goes to one partition). */
  readonly partition: (n: number) => number;
  /** Once this holds, `afterStop` more sends are made and the producer ends. */
  readonly stop: () => boolean;
  readonly afterStop: number;
  readonly deadline: number;
  /** Told of every acknowledged send: its partition, and when (Date.now()). */
  readonly onAcked?: (partition: number, atMs: number) => void;
}

/**
 * Sends numbered messages in small batches through a connected kafkajs producer (acks=all), one
 * partition per send, filling the ledger with what was acknowledged. Returns the sends that failed.
 */
export async function produceWithKafkajs(book: ProducerLedger, producer: { send(record: { topic: string; acks: number; messages: { key?: string; value: string; partition: number }[] }): Promise<unknown> }, o: KafkajsSendsOptions): Promise<string[]> {
  const failures: string[] = [];
  let after = 0;
  for (let n = 0; n < o.sendsMax && after < o.afterStop && Date.now() < o.deadline; n++) {
    if (o.stop()) after++;
    const first = book.sent;
    book.sent += o.batch;
    const messages = [];
    for (let s = first; s < book.sent; s++) messages.push({ key: `${book.name}-${s}`, value: valueOf(book.name, s), partition: o.partition(n) });
    try {
      await producer.send({ topic: o.topic, acks: -1, messages });
      for (let s = first; s < book.sent; s++) book.acked.add(s);
      o.onAcked?.(o.partition(n), Date.now());
    } catch (err) {
      failures.push(`batch ${first}..${book.sent - 1}: ${(err as Error).message}`);
    }
    await sleep(o.paceMs);
  }
  return failures;
}
