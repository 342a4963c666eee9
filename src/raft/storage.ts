import type { ConfState, Entry, HardState, Snapshot } from './messages.ts';

/**
 * The durable Raft log as the core reads it. The core never writes through this interface: the
 * driver writes what a Ready hands out (see ready.ts for the order) and only then calls advance(),
 * so everything readable here is already durable. A partition's segment log implements it for
 * partition groups; MemoryStorage implements it for tests and the simulator.
 *
 * Bootstrap. Every member of a group, including one that joins later, starts from the same
 * bootstrap snapshot: index 0, term 0, the group's initial membership (or from any later snapshot
 * of the group). Membership changes in the log are applied on top of it, so a member that
 * started from a different membership would compute a different one.
 *
 * Index space. The storage holds a snapshot (possibly the bootstrap one) followed by the
 * contiguous entries
 * `[firstIndex(), lastIndex()]`, where `firstIndex() = snapshot index + 1`. An empty log has
 * `lastIndex() = firstIndex() - 1`. The term of `firstIndex() - 1` stays known (it is the
 * snapshot's term) so the core can check the entry before the first retained one.
 *
 * Errors. Reads below that range throw LogCompactedError; reads above it throw
 * LogUnavailableError. `entries()` (never `term()`, `firstIndex()`, `lastIndex()` or `snapshot()`)
 * may also throw LogNotLoadedError for entries inside the range that are on disk but not in
 * memory: the storage has then started loading them and tells its owner when they are in memory,
 * and the owner calls RawNode.storageLoaded() so the core retries. The core treats it as "not
 * now", never as a reason to send a snapshot. Any other exception is an I/O failure the core does
 * not handle: it propagates out of tick/step/ready and the driver must stop the group (the log
 * directory is offline; see docs/errors.md).
 *
 * Immutability. An entry object, once returned, is never mutated by storage or core. Storage may
 * return the same objects again (no copies needed). Entries at an index may be replaced only
 * by a later append from the driver that truncates the uncommitted tail; a committed entry never
 * changes. Compaction removes a prefix, never anything at or above the applied index + 1.
 *
 * Synchrony. Every method answers synchronously: the core is a pure state machine. Implementations
 * over files serve reads from memory maps or caches (terms change rarely, so a small
 * term-to-first-index table answers term()).
 */
export interface LogStorage {
  /** The durable hard state and the membership as of the last snapshot. Called once, at construction. */
  initialState(): { hardState: HardState; confState: ConfState };

  /**
   * Entries with indexes in the half-open range [lo, hi), in order, at most `maxBytes` in total as
   * counted by `entryBytes`, but always at least one entry when lo < hi, even if that one alone is
   * larger. Throws LogCompactedError when lo < firstIndex() and LogUnavailableError when
   * hi > lastIndex() + 1. A caching storage may return fewer entries than the byte limit allows (a
   * prefix of the range, still at least one) when the next one is not in memory, and throws
   * LogNotLoadedError when entry `lo` itself is not. The caller must not mutate the returned array.
   */
  entries(lo: number, hi: number, maxBytes: number): readonly Entry[];

  /** The term of entry `index`, for index in [firstIndex() - 1, lastIndex()]; throws as above otherwise. */
  term(index: number): number;

  /** Index of the first entry still stored (snapshot index + 1). */
  firstIndex(): number;

  /** Index of the last stored entry, or firstIndex() - 1 when there is none. */
  lastIndex(): number;

  /** The latest snapshot. The core sends it to followers that need entries below firstIndex(). */
  snapshot(): Snapshot;

  /**
   * Optional: the conf-change entries among [lo, hi), in order, from memory. A caching storage that
   * can answer this without reading data entries lets a node restart with `applied` far above its
   * snapshot without loading every entry in between (the core only needs their membership changes).
   */
  confChangeEntries?(lo: number, hi: number): readonly Entry[];
}
