// Builds coordinators on fake time and an in-memory log, with request builders that fill the
// defaults a Kafka client would send, so tests state only what matters to them.
import { GroupCoordinator } from '../../src/groups/group-coordinator.ts';
import type { GroupCoordinatorConfig } from '../../src/groups/coordinator-config.ts';
import type {
  HeartbeatRequest,
  JoinGroupRequest,
  JoinGroupResponse,
  OffsetCommitRequest,
  SyncGroupRequest,
  SyncGroupResponse,
} from '../../src/groups/group-api.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { MemoryOffsetsLog } from './memory-offsets-log.ts';

export interface Harness {
  readonly time: ManualClock;
  readonly log: MemoryOffsetsLog;
  readonly coordinator: GroupCoordinator;
  readonly backgroundErrors: unknown[];
}

export async function makeCoordinator(
  config: Partial<GroupCoordinatorConfig> = {},
  shared?: { time?: ManualClock; log?: MemoryOffsetsLog },
): Promise<Harness> {
  const time = shared?.time ?? new ManualClock();
  const log = shared?.log ?? new MemoryOffsetsLog();
  let n = 0;
  const backgroundErrors: unknown[] = [];
  const coordinator = new GroupCoordinator({
    log,
    clock: time,
    newId: () => `uuid${++n}`,
    // Most tests want rebalances to end as soon as everyone joined; the delay has its own tests.
    config: { groupInitialRebalanceDelayMs: 0, ...config },
    onBackgroundError: (e) => backgroundErrors.push(e),
  });
  await coordinator.load();
  return { time, log, coordinator, backgroundErrors };
}

export const PROTOCOL_TYPE = 'consumer';

export function joinRequest(over: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    apiVersion: 5,
    groupId: 'g',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    memberId: '',
    groupInstanceId: null,
    protocolType: PROTOCOL_TYPE,
    protocols: [{ name: 'range', metadata: Buffer.from('sub') }],
    clientId: 'client',
    clientHost: '/127.0.0.1',
    ...over,
  };
}

export function syncRequest(over: Partial<SyncGroupRequest> = {}): SyncGroupRequest {
  return {
    groupId: 'g',
    generationId: 1,
    memberId: '',
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
    ...over,
  };
}

export function heartbeatRequest(over: Partial<HeartbeatRequest> = {}): HeartbeatRequest {
  return { groupId: 'g', generationId: 1, memberId: '', groupInstanceId: null, ...over };
}

export function commitRequest(
  offsets: Record<string, Record<number, bigint>>,
  over: Partial<OffsetCommitRequest> = {},
): OffsetCommitRequest {
  return {
    apiVersion: 8,
    groupId: 'g',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    topics: Object.entries(offsets).map(([name, parts]) => ({
      name,
      partitions: Object.entries(parts).map(([p, offset]) => ({
        partitionIndex: Number(p),
        committedOffset: offset,
        committedLeaderEpoch: -1,
        commitTimestampMs: -1,
        committedMetadata: null,
      })),
    })),
    ...over,
  };
}

/** Tracks whether a promise settled, without awaiting it. */
export function track<T>(p: Promise<T>): { readonly promise: Promise<T>; settled(): boolean; value(): T } {
  let done = false;
  let result: T | undefined;
  p.then((v) => {
    done = true;
    result = v;
  });
  return {
    promise: p,
    settled: () => done,
    value: () => {
      if (!done) throw new Error('promise has not settled');
      return result as T;
    },
  };
}

/** Lets promise callbacks (including the in-memory log's) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Starts a member's join: for a dynamic member at v4+ it does the MEMBER_ID_REQUIRED round trip
 * first. The final JoinGroup stays parked and is returned as `pending`.
 */
export async function startJoin(
  h: Harness,
  over: Partial<JoinGroupRequest> = {},
): Promise<{ memberId: string; pending: Promise<JoinGroupResponse> }> {
  const req = joinRequest(over);
  if (req.memberId !== '' || req.groupInstanceId !== null || req.apiVersion < 4) {
    return { memberId: req.memberId, pending: h.coordinator.joinGroup(req) };
  }
  const first = await h.coordinator.joinGroup(req);
  if (first.errorCode !== 79) throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.errorCode}`);
  return { memberId: first.memberId, pending: h.coordinator.joinGroup({ ...req, memberId: first.memberId }) };
}

/** Advances time in steps until every promise settled (bounded), letting callbacks run in between. */
export async function advanceUntil(h: Harness, promises: readonly { settled(): boolean }[], stepMs = 500, stepsMax = 2000): Promise<void> {
  for (let i = 0; i < stepsMax && !promises.every((p) => p.settled()); i++) {
    h.time.advance(stepMs);
    await flush();
  }
  if (!promises.every((p) => p.settled())) throw new Error('promises did not settle');
}

/**
 * Forms a Stable group of `n` members (client ids c0, c1, ...): they all join within the initial
 * rebalance delay (the harness must have one), then sync with the test leader's assignment.
 */
export async function formGroup(
  h: Harness,
  n: number,
  over: (i: number) => Partial<JoinGroupRequest> = () => ({}),
): Promise<{ joins: JoinGroupResponse[]; syncs: SyncGroupResponse[] }> {
  if (h.coordinator.config.groupInitialRebalanceDelayMs === 0) throw new Error('formGroup needs an initial rebalance delay');
  const pending = [];
  for (let i = 0; i < n; i++) pending.push(track((await startJoin(h, { clientId: `c${i}`, ...over(i) })).pending));
  await advanceUntil(h, pending);
  const joins = pending.map((p) => p.value());
  for (const j of joins) if (j.errorCode !== 0 || j.generationId !== joins[0]!.generationId) throw new Error(`join failed: ${JSON.stringify(j)}`);
  const syncs = await completeSync(h, joins, over(0).groupId ?? 'g');
  for (const s of syncs) if (s.errorCode !== 0) throw new Error(`sync failed: ${s.errorCode}`);
  return { joins, syncs };
}

/** The assignment bytes the test leaders hand out: they name the generation and member. */
export function assignmentFor(generationId: number, memberId: string): Buffer {
  return Buffer.from(`g${generationId}:${memberId}`);
}

/** Drives a complete rebalance for the given parked joins and syncs everyone; returns the results. */
export async function completeSync(
  h: Harness,
  joins: readonly JoinGroupResponse[],
  groupId = 'g',
): Promise<SyncGroupResponse[]> {
  const leader = joins.find((j) => j.members.length > 0);
  if (leader === undefined) throw new Error('no leader among the join responses');
  const syncs = joins.map((j) =>
    h.coordinator.syncGroup(
      syncRequest({
        groupId,
        generationId: j.generationId,
        memberId: j.memberId,
        assignments: j === leader ? leader.members.map((m) => ({ memberId: m.memberId, assignment: assignmentFor(j.generationId, m.memberId) })) : [],
      }),
    ),
  );
  return Promise.all(syncs);
}
