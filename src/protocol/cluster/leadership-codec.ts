/**
 * The leadership digest as plain data (plain-codec.ts): a broker tells a peer which Raft groups it
 * leads (src/replication/leadership-gossip.ts, docs/replication.md "Leadership gossip"). Transport
 * message type 48 (docs/transport.md keeps the table of every layer's types).
 *
 *   digest := [full, [entry, ...]]                          full: true | false
 *           | [true, [entry, ...], firstGroupId, lastGroupId]
 *   entry  := [groupId, term, [isrBrokerId, ...]]
 *
 * The leader of every entry is the sender. `full` false lists only what changed. `full` true is the
 * complete list of the groups the sender leads with ids in firstGroupId..lastGroupId (0..2^31-1 when
 * the two are left out): the receiver steps the sender down from every group in that range it has
 * recorded as led by the sender and that is not listed.
 *
 * A full digest too large for one transport message is split by group id (splitFullDigest): the
 * entries are sorted and each chunk states the range it covers, the ranges tiling 0..2^31-1. Every
 * chunk then stands alone, so a chunk lost or delayed never makes the receiver step the sender down
 * from a group listed in another chunk; the next complete digest repairs what was lost.
 *
 * Decoding checks every item (group ids 0..2^31-1, terms 0..2^53-1, broker ids 1..2^31-1, ISR of at
 * most ISR_LENGTH_MAX distinct ids, at most DIGEST_ENTRIES_MAX distinct groups, all within the range
 * of a ranged digest) and throws StreamBusError SB_ERR_PEER_PROTOCOL naming what was wrong.
 */
import { assert } from '../../util/assert.ts';
import { StreamBusError } from '../../util/errors.ts';

export const LEADERSHIP_DIGEST_TYPE = 48;
export const GROUP_ID_MAX = 0x7fffffff;
export const BROKER_ID_MAX = 0x7fffffff;
/** Kafka's replication factor in practice stays far below this. */
export const ISR_LENGTH_MAX = 16;
/** Groups in one digest, at most: bounds the work a received message can cause. */
export const DIGEST_ENTRIES_MAX = 1_000_000;

export interface DigestEntry {
  readonly groupId: number;
  readonly term: number;
  readonly isr: readonly number[];
}

export interface LeadershipDigest {
  /** True: `entries` is everything the sender leads in firstGroupId..lastGroupId. */
  readonly full: boolean;
  readonly firstGroupId: number;
  readonly lastGroupId: number;
  readonly entries: readonly DigestEntry[];
}

/**
 * Encoded bytes of one entry, at most: fixarray(3), group id as uint 32 (5), term as float 64 (9),
 * an array 16 header (3) and 5 bytes per ISR id.
 */
export function entryBytesMax(isrLength: number): number {
  return 1 + 5 + 9 + 3 + 5 * isrLength;
}

/** Bytes of a digest message besides its entries, at most: [type, [full, array 32 header, first, last]]. */
export const DIGEST_OVERHEAD_BYTES = 1 + 1 + 1 + 1 + 5 + 5 + 5;

export function encodeDigest(digest: LeadershipDigest): unknown[] {
  const entries = digest.entries.map((e) => [e.groupId, e.term, [...e.isr]]);
  const whole = digest.firstGroupId === 0 && digest.lastGroupId === GROUP_ID_MAX;
  assert(digest.full || whole, 'a partial digest has no range');
  return whole ? [digest.full, entries] : [true, entries, digest.firstGroupId, digest.lastGroupId];
}

/**
 * The bodies of a full digest of `entries`, each of whose messages stays within `maxMessageBytes`: one
 * body when everything fits, else chunks by group id (see the header). Entries must have distinct ids.
 */
export function splitFullDigest(entries: readonly DigestEntry[], maxMessageBytes: number): unknown[][] {
  assert(maxMessageBytes >= DIGEST_OVERHEAD_BYTES + entryBytesMax(ISR_LENGTH_MAX), `a digest message must hold at least one entry, maxMessageBytes ${maxMessageBytes}`);
  let total = DIGEST_OVERHEAD_BYTES;
  for (const e of entries) {
    assert(e.isr.length <= ISR_LENGTH_MAX, `group ${e.groupId}: an ISR of ${e.isr.length} brokers is longer than ${ISR_LENGTH_MAX}`);
    total += entryBytesMax(e.isr.length);
  }
  if (total <= maxMessageBytes && entries.length <= DIGEST_ENTRIES_MAX) return [encodeDigest({ full: true, firstGroupId: 0, lastGroupId: GROUP_ID_MAX, entries })];
  const sorted = [...entries].sort((a, b) => a.groupId - b.groupId);
  const bodies: unknown[][] = [];
  let first = 0;
  let chunk: DigestEntry[] = [];
  let bytes = DIGEST_OVERHEAD_BYTES;
  for (const e of sorted) {
    const size = entryBytesMax(e.isr.length);
    if (bytes + size > maxMessageBytes || chunk.length === DIGEST_ENTRIES_MAX) {
      const last = chunk[chunk.length - 1]!.groupId;
      bodies.push(encodeDigest({ full: true, firstGroupId: first, lastGroupId: last, entries: chunk }));
      first = last + 1;
      chunk = [];
      bytes = DIGEST_OVERHEAD_BYTES;
    }
    chunk.push(e);
    bytes += size;
  }
  bodies.push(encodeDigest({ full: true, firstGroupId: first, lastGroupId: GROUP_ID_MAX, entries: chunk }));
  assert(bodies.length > 1, 'a digest split only when it does not fit one message');
  return bodies;
}

/**
 * The bodies of a partial digest (`full` false: only what changed) of `entries`, each of whose messages
 * stays within `maxMessageBytes`. Entries must have distinct ids; none is sent for an empty list.
 */
export function splitPartialDigest(entries: readonly DigestEntry[], maxMessageBytes: number): unknown[][] {
  assert(maxMessageBytes >= DIGEST_OVERHEAD_BYTES + entryBytesMax(ISR_LENGTH_MAX), `a digest message must hold at least one entry, maxMessageBytes ${maxMessageBytes}`);
  const bodies: unknown[][] = [];
  let chunk: DigestEntry[] = [];
  let bytes = DIGEST_OVERHEAD_BYTES;
  for (const e of entries) {
    assert(e.isr.length <= ISR_LENGTH_MAX, `group ${e.groupId}: an ISR of ${e.isr.length} brokers is longer than ${ISR_LENGTH_MAX}`);
    const size = entryBytesMax(e.isr.length);
    if (chunk.length > 0 && (bytes + size > maxMessageBytes || chunk.length === DIGEST_ENTRIES_MAX)) {
      bodies.push(encodeDigest({ full: false, firstGroupId: 0, lastGroupId: GROUP_ID_MAX, entries: chunk }));
      chunk = [];
      bytes = DIGEST_OVERHEAD_BYTES;
    }
    chunk.push(e);
    bytes += size;
  }
  if (chunk.length > 0) bodies.push(encodeDigest({ full: false, firstGroupId: 0, lastGroupId: GROUP_ID_MAX, entries: chunk }));
  return bodies;
}

export function decodeDigest(body: unknown): LeadershipDigest {
  if (!Array.isArray(body) || (body.length !== 2 && body.length !== 4)) fail(`a digest must be an array of 2 or 4 items, got ${show(body)}`);
  const full = body[0];
  if (typeof full !== 'boolean') fail(`full must be a boolean, got ${show(full)}`);
  let firstGroupId = 0;
  let lastGroupId = GROUP_ID_MAX;
  if (body.length === 4) {
    if (!full) fail('only a full digest has a range');
    firstGroupId = integer(body[2], 0, GROUP_ID_MAX, 'firstGroupId');
    lastGroupId = integer(body[3], firstGroupId, GROUP_ID_MAX, 'lastGroupId');
  }
  const list = body[1];
  if (!Array.isArray(list)) fail(`entries must be an array, got ${show(list)}`);
  if (list.length > DIGEST_ENTRIES_MAX) fail(`a digest has at most ${DIGEST_ENTRIES_MAX} entries, got ${list.length}`);
  const seen = new Set<number>();
  const entries: DigestEntry[] = [];
  for (let i = 0; i < list.length; i++) {
    const entry = decodeEntry(list[i], `entry ${i}`);
    if (entry.groupId < firstGroupId || entry.groupId > lastGroupId) fail(`entry ${i}: group ${entry.groupId} is outside the digest's range ${firstGroupId}..${lastGroupId}`);
    if (seen.has(entry.groupId)) fail(`entry ${i}: group ${entry.groupId} is listed twice`);
    seen.add(entry.groupId);
    entries.push(entry);
  }
  return { full, firstGroupId, lastGroupId, entries };
}

function decodeEntry(value: unknown, what: string): DigestEntry {
  if (!Array.isArray(value) || value.length !== 3) fail(`${what} must be [groupId, term, isr], got ${show(value)}`);
  const groupId = integer(value[0], 0, GROUP_ID_MAX, `${what} group id`);
  const term = integer(value[1], 0, Number.MAX_SAFE_INTEGER, `${what} term`);
  const raw = value[2];
  if (!Array.isArray(raw)) fail(`${what} isr must be an array, got ${show(raw)}`);
  if (raw.length > ISR_LENGTH_MAX) fail(`${what} isr has at most ${ISR_LENGTH_MAX} brokers, got ${raw.length}`);
  const isr: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const id = integer(raw[i], 1, BROKER_ID_MAX, `${what} isr broker ${i}`);
    if (isr.includes(id)) fail(`${what} isr lists broker ${id} twice`);
    isr.push(id);
  }
  return { groupId, term, isr };
}

function fail(what: string): never {
  throw new StreamBusError('SB_ERR_PEER_PROTOCOL', `leadership digest: ${what}`);
}

function integer(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(`${what} must be an integer ${min}..${max}, got ${show(value)}`);
  return value;
}

/** What a received value is, briefly, for an error message: never its whole text, and never throws. */
function show(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return `a string of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  return typeof value;
}
