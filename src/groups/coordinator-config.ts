/**
 * Tunables of the group coordinator, named after Kafka's broker settings they mirror, with Kafka's
 * defaults (except `groupMaxSize`, which Kafka leaves unbounded; every queue here has a limit).
 */
import { assert } from '../util/assert.ts';

export interface GroupCoordinatorConfig {
  /** group.min.session.timeout.ms: JoinGroup below it gets INVALID_SESSION_TIMEOUT (26). */
  readonly groupMinSessionTimeoutMs: number;
  /** group.max.session.timeout.ms: JoinGroup above it gets INVALID_SESSION_TIMEOUT (26). */
  readonly groupMaxSessionTimeoutMs: number;
  /**
   * group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits for more
   * members; each new member extends it by this much again, up to the rebalance timeout. 0 disables it.
   */
  readonly groupInitialRebalanceDelayMs: number;
  /** group.max.size: new members beyond it get GROUP_MAX_SIZE_REACHED (81). */
  readonly groupMaxSize: number;
  /**
   * How long a new member's JoinGroup may stay parked before the member is dropped (Kafka's fixed
   * 5 minutes), so that a member that joins during a long rebalance and vanishes does not linger.
   */
  readonly newMemberJoinTimeoutMs: number;
  /** offsets.retention.minutes in ms: offsets of a group that has been empty this long are deleted. */
  readonly offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms. */
  readonly offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes: longer commit metadata gets OFFSET_METADATA_TOO_LARGE (12). */
  readonly offsetMetadataMaxBytes: number;
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: GroupCoordinatorConfig = {
  groupMinSessionTimeoutMs: 6_000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 3_000,
  groupMaxSize: 10_000,
  newMemberJoinTimeoutMs: 300_000,
  offsetsRetentionMs: 7 * 24 * 60 * 60 * 1000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4096,
};

/** Fills defaults and checks the relationships between the values (programmer error if broken). */
export function resolveGroupCoordinatorConfig(partial: Partial<GroupCoordinatorConfig> = {}): GroupCoordinatorConfig {
  const c = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...partial };
  for (const [k, v] of Object.entries(c)) assert(Number.isInteger(v) && v >= 0, `group coordinator config ${k} must be a non-negative integer, got ${v}`);
  assert(c.groupMinSessionTimeoutMs > 0, 'groupMinSessionTimeoutMs must be positive');
  assert(c.groupMinSessionTimeoutMs <= c.groupMaxSessionTimeoutMs, 'groupMinSessionTimeoutMs must not exceed groupMaxSessionTimeoutMs');
  assert(c.groupMaxSize >= 1, 'groupMaxSize must be at least 1');
  assert(c.newMemberJoinTimeoutMs > 0, 'newMemberJoinTimeoutMs must be positive');
  assert(c.offsetsRetentionCheckIntervalMs > 0, 'offsetsRetentionCheckIntervalMs must be positive');
  assert(c.offsetsRetentionMs > 0, 'offsetsRetentionMs must be positive');
  return c;
}
