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

export interface OffsetsLog {
  /**
   * Appends `records` as one unit (one record batch): after a crash either all of them are replayed
   * or none. The promise resolves only once the records are durable (fsynced, or committed by the
   * replication quorum), and rejects with an operating error if they could not be made durable.
   * Calls are ordered: records of a later call are replayed after those of an earlier call, even when
   * the later call was made before the earlier one resolved, and promises resolve in call order.
   * The coordinator keeps no reference to the buffers after the call.
   */
  append(records: readonly OffsetsLogRecord[]): Promise<void>;

  /**
   * Yields every durable record from the start of the log in append order. Compaction may have
   * dropped records superseded by a later record with the same key (and, after the delete
   * retention, tombstones); replay of the remaining records must still give the same final state.
   * Called once, by `GroupCoordinator.load()`, before any `append`.
   */
  replay(): AsyncIterable<OffsetsLogRecord>;
}
