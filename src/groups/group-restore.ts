/**
 * Rebuilds a group from its last GroupMetadataValue record. Kafka restores a group as it was: with
 * members it comes back Stable (the members' sessions start over at load time), without members
 * Empty. A record that cannot describe a valid group is corrupt data (SB_ERR_CORRUPT).
 */
import { StreamBusError } from '../util/errors.ts';
import { ClassicGroup } from './group.ts';
import { GroupMember } from './member.ts';
import type { GroupMetadataValue } from './offsets-records.ts';

export function restoreGroup(groupId: string, value: GroupMetadataValue, nowMs: number): ClassicGroup {
  const corrupt = (why: string): never => {
    throw new StreamBusError('SB_ERR_CORRUPT', `__consumer_offsets group ${groupId}: ${why}`);
  };
  if (value.members.length > 0 && value.protocol === null) corrupt('members without a selected protocol');
  if (value.members.length > 0 && value.protocolType.length === 0) corrupt('members without a protocol type');
  if (value.generation < 0) corrupt(`negative generation ${value.generation}`);
  const group = new ClassicGroup(groupId, value.members.length > 0 ? 'Stable' : 'Empty', value.currentStateTimestampMs >= 0 ? value.currentStateTimestampMs : null);
  group.generationId = value.generation;
  group.protocolType = value.protocolType.length > 0 ? value.protocolType : null;
  group.protocolName = value.members.length > 0 ? value.protocol : null;
  for (const r of value.members) {
    if (r.sessionTimeoutMs <= 0 || r.rebalanceTimeoutMs <= 0 || r.memberId.length === 0) corrupt(`bad member ${r.memberId}`);
    if (group.members.has(r.memberId)) corrupt(`duplicate member ${r.memberId}`);
    if (r.groupInstanceId !== null && group.staticMembers.has(r.groupInstanceId)) corrupt(`duplicate instance ${r.groupInstanceId}`);
    const member = new GroupMember({
      memberId: r.memberId,
      groupInstanceId: r.groupInstanceId,
      clientId: r.clientId,
      clientHost: r.clientHost,
      rebalanceTimeoutMs: r.rebalanceTimeoutMs,
      sessionTimeoutMs: r.sessionTimeoutMs,
      protocolType: value.protocolType,
      protocols: [{ name: value.protocol!, metadata: Buffer.from(r.subscription) }],
      nowMs,
    });
    member.assignment = Buffer.from(r.assignment);
    group.add(member);
  }
  if (value.leader !== null && group.members.has(value.leader)) group.leaderId = value.leader;
  return group;
}
