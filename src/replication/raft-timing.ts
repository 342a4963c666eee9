/**
 * From the guide's raft.heartbeatTimeout and raft.electionTimeout (milliseconds) to the core's
 * ticks. A follower that hears no leader stands after a random time between half of
 * raft.electionTimeout and all of it. The tick is the unit of both; it is short enough that the timeouts keep their precision
 * (a tenth of the heartbeat interval, at most 100 ms) and long enough that thousands of groups ticking
 * on one timer stay cheap (at least 10 ms).
 *
 * A leader probes a member again when a probe goes unanswered for PROBE_RETRY_MS or a heartbeat
 * interval, whichever is shorter (RaftConfig.probeRetryTicks): a broker that just restarted drops the
 * probes for groups it does not host yet, and with a heartbeat of a second the group would otherwise
 * wait that long for a member it may need for a quorum.
 */
import { assert } from '../util/assert.ts';

export interface RaftTiming {
  readonly tickMs: number;
  readonly heartbeatTicks: number;
  readonly electionTicks: number;
  readonly probeRetryTicks: number;
}

export const TICK_MS_MIN = 10;
export const TICK_MS_MAX = 100;
export const PROBE_RETRY_MS = 200;

export function raftTiming(heartbeatMs: number, electionMs: number): RaftTiming {
  assert(Number.isFinite(heartbeatMs) && heartbeatMs > 0 && electionMs > heartbeatMs, `election timeout ${electionMs} ms must exceed the heartbeat interval ${heartbeatMs} ms`);
  const tickMs = Math.min(TICK_MS_MAX, Math.max(TICK_MS_MIN, Math.floor(heartbeatMs / 10)));
  const heartbeatTicks = Math.max(1, Math.round(heartbeatMs / tickMs));
  // The core waits a random time in [electionTicks, 2 * electionTicks) before standing. Taking half of
  // raft.electionTimeout as the base makes the setting what operators read it as: the longest a
  // follower goes without a leader before it stands (so a failover takes about electionTimeout plus
  // one round trip, not up to twice that). The base stays longer than the heartbeat interval.
  const electionTicks = Math.max(heartbeatTicks + 1, Math.round(electionMs / 2 / tickMs));
  // At least two ticks: a probe answered within a tick or so is not sent twice.
  const probeRetryTicks = Math.min(heartbeatTicks, Math.max(2, Math.round(PROBE_RETRY_MS / tickMs)));
  return { tickMs, heartbeatTicks, electionTicks, probeRetryTicks };
}
