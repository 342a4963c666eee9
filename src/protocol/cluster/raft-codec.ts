/**
 * Raft peer messages as plain data (plain-codec.ts) for inter-broker transport bodies. The Raft core
 * knows nothing of bytes and the transport nothing of Raft; this file is the contract between two
 * brokers' multi-raft hosts (src/replication/multi-raft.ts), so it lives with the other wire formats.
 *
 * The protocol layer may not import src/raft, so the message shapes are restated here as `Wire*`
 * types; they match src/raft/messages.ts field for field (multi-raft.ts checks that at compile time).
 *
 * Layout (arrays, not maps, so no field names travel; integers are MessagePack integers):
 *
 *   message  := [type, from, to, term, logTerm, index, commit, reject, rejectHint, leaderTransfer, entries, snapshot]
 *               trailing items equal to their neutral value (0, false, [], null) are left out, so a
 *               message has 4..12 items; a vote request is 6 items, a heartbeat response 4.
 *   type     := 0 app | 1 appResp | 2 heartbeat | 3 heartbeatResp | 4 vote | 5 voteResp
 *               | 6 preVote | 7 preVoteResp | 8 snapshot | 9 timeoutNow
 *   entries  := [[term, index, entryType (0 normal | 1 conf change), data (binary)], ...]
 *   snapshot := [index, term, [voter, ...], [learner, ...], data (binary)] | nil
 *
 * Transport message types (PeerTransport `type`), all in the range 16..31 reserved for Raft
 * (docs/transport.md keeps the table of every layer's types):
 *
 *   16 RAFT_HEARTBEATS  [groupId, kind, term, commit, groupId, kind, term, commit, ...]
 *                       heartbeats (kind 0) and heartbeat responses (kind 1) of many groups between
 *                       two brokers, coalesced; `from` and `to` are the two brokers of the connection.
 *   17 RAFT_MESSAGES    [[groupId, [message, ...]], ...]   any other messages, tagged with their group.
 *   18 RAFT_QUIESCE     [groupId, term, commit, groupId, term, commit, ...]
 *                       quiesce notices of many groups, coalesced: the sending broker leads each
 *                       group in `term`, and everything up to `commit` is committed on every member;
 *                       the group stops ticking (src/replication/raft-driver.ts, "Quiescence").
 *
 * Decoding checks every item: types, integer ranges (node ids 1..2^31-1, group ids 0..2^31-1, terms
 * and indexes 0..2^53-1), tuple lengths, entry types, that an append's entries are consecutive from
 * its `index + 1` with terms that never go down and stay within [logTerm, term], that only appends
 * carry entries and only snapshot messages a snapshot. Anything else throws StreamBusError
 * SB_ERR_PEER_PROTOCOL naming what was wrong; a decoder never returns a partly checked message.
 *
 * Binary data: a received body's Buffers view the bytes read from the socket or the frame assembled
 * from them (plain-codec.ts, frame-decoder.ts). Neither is ever reused, but an entry the log keeps
 * would pin the whole of it in memory, so entry and snapshot data are copied into Uint8Arrays of
 * their own unless they fill at least half of it (bytes()).
 */
import { StreamBusError } from '../../util/errors.ts';

/** PeerTransport message types this codec owns; 16..31 are reserved for Raft. */
export const RAFT_PEER_TYPES = { heartbeats: 16, messages: 17, quiesce: 18 } as const;
export const RAFT_PEER_TYPE_MIN = 16;
export const RAFT_PEER_TYPE_MAX = 31;

export type WireMessageType = 'app' | 'appResp' | 'heartbeat' | 'heartbeatResp' | 'vote' | 'voteResp' | 'preVote' | 'preVoteResp' | 'snapshot' | 'timeoutNow';

export interface WireEntry {
  readonly term: number;
  readonly index: number;
  readonly type: 0 | 1;
  readonly data: Uint8Array;
}

export interface WireSnapshot {
  readonly metadata: { readonly index: number; readonly term: number; readonly confState: { readonly voters: readonly number[]; readonly learners: readonly number[] } };
  readonly data: Uint8Array;
}

export interface WireMessage {
  readonly type: WireMessageType;
  readonly from: number;
  readonly to: number;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly WireEntry[];
  readonly commit: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly snapshot: WireSnapshot | null;
  readonly leaderTransfer: boolean;
}

/** One message of a group, as RAFT_MESSAGES and RAFT_HEARTBEATS bodies carry them. */
export interface GroupMessage {
  readonly groupId: number;
  readonly message: WireMessage;
}

/** The wire number of each message type is its position here. */
export const WIRE_MESSAGE_TYPES: readonly WireMessageType[] = ['app', 'appResp', 'heartbeat', 'heartbeatResp', 'vote', 'voteResp', 'preVote', 'preVoteResp', 'snapshot', 'timeoutNow'];
const TYPE_CODES = new Map<WireMessageType, number>(WIRE_MESSAGE_TYPES.map((t, i) => [t, i]));

export const NODE_ID_MAX = 0x7fffffff;
export const GROUP_ID_MAX = 0x7fffffff;
const MESSAGE_ITEMS_MIN = 4;
const MESSAGE_ITEMS_MAX = 12;
const HEARTBEAT_STRIDE = 4;
const QUIESCE_STRIDE = 3;
const NO_ENTRIES: readonly WireEntry[] = Object.freeze([]);

function fail(what: string): never {
  throw new StreamBusError('SB_ERR_PEER_PROTOCOL', `raft message: ${what}`);
}

function show(value: unknown): string {
  let text: string;
  if (typeof value === 'bigint') text = `${value}n`;
  else if (value instanceof Uint8Array) text = `<${value.byteLength} bytes>`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function integer(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(`${what} must be an integer ${min}..${max}, got ${show(value)}`);
  return value;
}

const nodeId = (value: unknown, what: string): number => integer(value, 1, NODE_ID_MAX, what);
const counter = (value: unknown, what: string): number => integer(value, 0, Number.MAX_SAFE_INTEGER, what);

function bool(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') fail(`${what} must be a boolean, got ${show(value)}`);
  return value;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) fail(`${what} must be an array, got ${show(value)}`);
  return value;
}

function tuple(value: unknown, count: number, what: string): unknown[] {
  if (!Array.isArray(value) || value.length !== count) fail(`${what} must be an array of ${count} items, got ${show(value)}`);
  return value;
}

/**
 * Received binary data the log may keep: the view itself when it fills at least half of the memory
 * it views (a large entry in a frame of its own: kept, it pins little more than itself, and a copy
 * of every replicated batch would cost a copy and twice the garbage), else a copy, so a small entry
 * never pins the socket chunk or the frame of other groups' entries it arrived with.
 */
function bytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(`${what} must be binary, got ${show(value)}`);
  return value.byteLength * 2 >= value.buffer.byteLength ? value : new Uint8Array(value);
}

function encodeEntry(e: WireEntry): unknown[] {
  return [e.term, e.index, e.type, e.data];
}

function encodeSnapshot(s: WireSnapshot): unknown[] {
  const { index, term, confState } = s.metadata;
  return [index, term, confState.voters, confState.learners, s.data];
}

/** `m` as plain data (the `message` layout above). The result shares `m`'s binary data. */
export function encodeRaftMessage(m: WireMessage): unknown[] {
  const code = TYPE_CODES.get(m.type);
  if (code === undefined) throw new TypeError(`unknown raft message type ${String(m.type)}`);
  const out: unknown[] = [
    code,
    m.from,
    m.to,
    m.term,
    m.logTerm,
    m.index,
    m.commit,
    m.reject,
    m.rejectHint,
    m.leaderTransfer,
    m.entries.length === 0 ? [] : m.entries.map(encodeEntry),
    m.snapshot === null ? null : encodeSnapshot(m.snapshot),
  ];
  let length = out.length;
  while (length > MESSAGE_ITEMS_MIN && isNeutral(out[length - 1])) length--;
  out.length = length;
  return out;
}

function isNeutral(value: unknown): boolean {
  return value === 0 || value === false || value === null || (Array.isArray(value) && value.length === 0);
}

function decodeEntries(value: unknown, m: { type: WireMessageType; term: number; logTerm: number; index: number }, what: string): readonly WireEntry[] {
  const items = list(value, `${what} entries`);
  if (items.length === 0) return NO_ENTRIES;
  if (m.type !== 'app') fail(`${what}: only app messages carry entries, ${m.type} has ${items.length}`);
  const entries: WireEntry[] = new Array(items.length);
  let previousTerm = m.logTerm;
  for (let i = 0; i < items.length; i++) {
    const at = `${what} entry ${i}`;
    const [term, index, type, data] = tuple(items[i], 4, at);
    const entryTerm = counter(term, `${at} term`);
    const expected = m.index + 1 + i;
    if (index !== expected) fail(`${at} index must be ${expected} (consecutive after the message index ${m.index}), got ${show(index)}`);
    if (entryTerm < previousTerm || entryTerm > m.term) fail(`${at} term must be ${previousTerm}..${m.term}, got ${entryTerm}`);
    if (type !== 0 && type !== 1) fail(`${at} type must be 0 or 1, got ${show(type)}`);
    entries[i] = { term: entryTerm, index: expected, type, data: bytes(data, `${at} data`) };
    previousTerm = entryTerm;
  }
  if (!Number.isSafeInteger(m.index + items.length)) fail(`${what}: entries run past 2^53-1`);
  return entries;
}

function members(value: unknown, what: string, seen: Set<number>): number[] {
  const items = list(value, what);
  const out: number[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const id = nodeId(items[i], `${what} ${i}`);
    if (seen.has(id)) fail(`${what}: node ${id} appears twice in the snapshot's membership`);
    seen.add(id);
    out[i] = id;
  }
  return out;
}

function decodeSnapshot(value: unknown, m: { type: WireMessageType; term: number }, what: string): WireSnapshot | null {
  if (value === null) {
    if (m.type === 'snapshot') fail(`${what}: a snapshot message needs a snapshot`);
    return null;
  }
  if (m.type !== 'snapshot') fail(`${what}: only snapshot messages carry a snapshot, not ${m.type}`);
  const [index, term, voters, learners, data] = tuple(value, 5, `${what} snapshot`);
  const snapshotIndex = integer(index, 1, Number.MAX_SAFE_INTEGER, `${what} snapshot index`);
  const snapshotTerm = integer(term, 1, m.term, `${what} snapshot term`);
  const seen = new Set<number>();
  const voterIds = members(voters, `${what} snapshot voters`, seen);
  if (voterIds.length === 0) fail(`${what}: a snapshot's membership needs at least one voter`);
  const learnerIds = members(learners, `${what} snapshot learners`, seen);
  return { metadata: { index: snapshotIndex, term: snapshotTerm, confState: { voters: voterIds, learners: learnerIds } }, data: bytes(data, `${what} snapshot data`) };
}

/** The message in `value` (the `message` layout above), checked item by item. */
export function decodeRaftMessage(value: unknown, what = 'message'): WireMessage {
  if (!Array.isArray(value) || value.length < MESSAGE_ITEMS_MIN || value.length > MESSAGE_ITEMS_MAX) {
    fail(`${what} must be an array of ${MESSAGE_ITEMS_MIN}..${MESSAGE_ITEMS_MAX} items, got ${show(value)}`);
  }
  const code = integer(value[0], 0, WIRE_MESSAGE_TYPES.length - 1, `${what} type`);
  const type = WIRE_MESSAGE_TYPES[code]!;
  const from = nodeId(value[1], `${what} from`);
  const to = nodeId(value[2], `${what} to`);
  if (from === to) fail(`${what}: from and to are both node ${from}`);
  const term = counter(value[3], `${what} term`);
  const at = (i: number, neutral: unknown): unknown => (i < value.length ? value[i] : neutral);
  const logTerm = counter(at(4, 0), `${what} logTerm`);
  const index = counter(at(5, 0), `${what} index`);
  const commit = counter(at(6, 0), `${what} commit`);
  const reject = bool(at(7, false), `${what} reject`);
  const rejectHint = counter(at(8, 0), `${what} rejectHint`);
  const leaderTransfer = bool(at(9, false), `${what} leaderTransfer`);
  const head = { type, term, logTerm, index };
  const entries = decodeEntries(at(10, NO_ENTRIES), head, what);
  const snapshot = decodeSnapshot(at(11, null), head, what);
  return { type, from, to, term, logTerm, index, entries, commit, reject, rejectHint, snapshot, leaderTransfer };
}

export function encodeRaftMessages(messages: readonly WireMessage[]): unknown[] {
  return messages.map(encodeRaftMessage);
}

export function decodeRaftMessages(value: unknown, what = 'messages'): WireMessage[] {
  const items = list(value, what);
  const out: WireMessage[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) out[i] = decodeRaftMessage(items[i], `${what} ${i}`);
  return out;
}

/** A RAFT_MESSAGES body: each run of one group's messages, tagged with the group. */
export function encodeGroupMessages(runs: readonly { readonly groupId: number; readonly messages: readonly WireMessage[] }[]): unknown[] {
  return runs.map((run) => [run.groupId, encodeRaftMessages(run.messages)]);
}

/** The messages of a RAFT_MESSAGES body, in order, each with its group. */
export function decodeGroupMessages(body: unknown): GroupMessage[] {
  const runs = list(body, 'group messages');
  const out: GroupMessage[] = [];
  for (let i = 0; i < runs.length; i++) {
    const [groupId, messages] = tuple(runs[i], 2, `group run ${i}`);
    const id = integer(groupId, 0, GROUP_ID_MAX, `group run ${i} groupId`);
    for (const message of decodeRaftMessages(messages, `group ${id} message`)) out.push({ groupId: id, message });
  }
  return out;
}

/** Whether `m` fits a RAFT_HEARTBEATS body: a heartbeat (or response) with nothing beyond term and commit. */
export function isCoalescibleHeartbeat(m: WireMessage): boolean {
  if (m.type !== 'heartbeat' && m.type !== 'heartbeatResp') return false;
  return m.logTerm === 0 && m.index === 0 && m.entries.length === 0 && !m.reject && m.rejectHint === 0 && m.snapshot === null && !m.leaderTransfer;
}

/** Appends `m` (which must be coalescible) of group `groupId` to a RAFT_HEARTBEATS body under construction. */
export function pushHeartbeat(body: number[], groupId: number, m: WireMessage): void {
  if (!isCoalescibleHeartbeat(m)) throw new TypeError(`a ${m.type} message with more than term and commit cannot be coalesced`);
  body.push(groupId, m.type === 'heartbeat' ? 0 : 1, m.term, m.commit);
}

/** The heartbeats of a RAFT_HEARTBEATS body sent by broker `from` to broker `to`. */
export function decodeHeartbeats(body: unknown, from: number, to: number): GroupMessage[] {
  const items = list(body, 'heartbeats');
  if (items.length % HEARTBEAT_STRIDE !== 0) fail(`heartbeats must hold groups of ${HEARTBEAT_STRIDE} items, got ${items.length} items`);
  const out: GroupMessage[] = new Array(items.length / HEARTBEAT_STRIDE);
  for (let i = 0; i < items.length; i += HEARTBEAT_STRIDE) {
    const at = `heartbeat ${i / HEARTBEAT_STRIDE}`;
    const groupId = integer(items[i], 0, GROUP_ID_MAX, `${at} groupId`);
    const kind = integer(items[i + 1], 0, 1, `${at} kind`);
    const term = counter(items[i + 2], `${at} term`);
    const commit = counter(items[i + 3], `${at} commit`);
    const message: WireMessage = {
      type: kind === 0 ? 'heartbeat' : 'heartbeatResp',
      from,
      to,
      term,
      logTerm: 0,
      index: 0,
      entries: NO_ENTRIES,
      commit,
      reject: false,
      rejectHint: 0,
      snapshot: null,
      leaderTransfer: false,
    };
    out[i / HEARTBEAT_STRIDE] = { groupId, message };
  }
  return out;
}

/** One quiesce notice of a RAFT_QUIESCE body. */
export interface QuiesceNotice {
  readonly groupId: number;
  readonly term: number;
  readonly commit: number;
}

/** Appends the notice of group `groupId` to a RAFT_QUIESCE body under construction. */
export function pushQuiesce(body: number[], groupId: number, term: number, commit: number): void {
  body.push(groupId, term, commit);
}

/** The notices of a RAFT_QUIESCE body, checked in full. */
export function decodeQuiesce(body: unknown): QuiesceNotice[] {
  const items = list(body, 'quiesce notices');
  if (items.length % QUIESCE_STRIDE !== 0) fail(`quiesce notices must hold groups of ${QUIESCE_STRIDE} items, got ${items.length} items`);
  const out: QuiesceNotice[] = new Array(items.length / QUIESCE_STRIDE);
  for (let i = 0; i < items.length; i += QUIESCE_STRIDE) {
    const at = `quiesce notice ${i / QUIESCE_STRIDE}`;
    const groupId = integer(items[i], 0, GROUP_ID_MAX, `${at} groupId`);
    const term = integer(items[i + 1], 1, Number.MAX_SAFE_INTEGER, `${at} term`);
    const commit = counter(items[i + 2], `${at} commit`);
    out[i / QUIESCE_STRIDE] = { groupId, term, commit };
  }
  return out;
}
