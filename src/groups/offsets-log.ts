/**
 * The durable home of committed offsets and group metadata: the `__consumer_offsets` partition log,
 * in Kafka's own key/value record format (see offsets-records.ts). The broker implements this on top
 * of a compacted partition log; tests use an in-memory list.
 */

/** One record: the key is never null; a null value is a tombstone that deletes the key on compaction. */
export interface OffsetsLogRecord {
  readonly key: Buffer;
  readonly value: Buffer | null;
}

/** The producer of a transactional batch (TxnOffsetCommit): its records count only once its commit marker follows. */
export interface OffsetsLogProducer {
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

/**
 * What replay yields, in log order: the records of one batch (with its producer when the batch is
 * transactional, else null), or a transaction marker (a control batch of type commit or abort, written
 * by Partition.writeTxnMarker; control records of other types are left out).
 */
export type OffsetsLogEntry =
  | { readonly kind: 'batch'; readonly records: readonly OffsetsLogRecord[]; readonly transaction: OffsetsLogProducer | null }
  | { readonly kind: 'marker'; readonly producerId: bigint; readonly producerEpoch: number; readonly commit: boolean };

/**
 * What an append's promise waits for. `durable`: the records are fsynced, or committed by the
 * replication quorum. `visible`: as `durable` on a replicated partition; alone, the records are
 * written and fsynced at storage.syncInterval (at once when it is 0), as produced records are: a crash
 * of the machine before that sync may lose them, so only records nothing waits on may use it.
 */
export type OffsetsLogDurability = 'durable' | 'visible';

export interface OffsetsLog {
  /**
   * Appends `records` as one unit (one record batch): after a crash either all of them are replayed
   * or none. With `transaction`, the batch is transactional (attributes bit 4) and carries that
   * producer id and epoch. The promise resolves only once the records are as durable as `durability`
   * says (`durable` when absent), and rejects with an operating error if they could not be written.
   * Calls are ordered: records of a later call are replayed after those of an earlier call, even when
   * the later call was made before the earlier one resolved, and promises resolve in call order (so a
   * `durable` append also makes every earlier one durable). The coordinator keeps no reference to the
   * buffers after the call.
   */
  append(records: readonly OffsetsLogRecord[], transaction?: OffsetsLogProducer, durability?: OffsetsLogDurability): Promise<void>;

  /**
   * Yields every durable batch and marker from the start of the log in log order. Compaction may
   * have dropped records superseded by a later record with the same key (and, after the delete
   * retention, tombstones); replay of the remaining records must still give the same final state.
   * Called once, by `GroupCoordinator.load()`, before any `append`.
   */
  replay(): AsyncIterable<OffsetsLogEntry>;
}
