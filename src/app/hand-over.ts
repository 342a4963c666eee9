/**
 * Which member a stopping broker hands a group's leadership to (ClusterNode.startHandOver): the voter
 * holding most of the leader's log among those whose broker the transport reaches now.
 *
 * Not only the members Raft counts as recently active: check-quorum clears that mark every election
 * timeout and the member's next answer sets it again, and the followers of an idle group answer only
 * heartbeats. With raft.heartbeatTimeout 1 s and raft.electionTimeout 3 s (a check every 1.5 s) an idle
 * group's followers are all unmarked for up to a heartbeat after each check; requiring the mark left
 * such a group led by the stopping broker until the retry an election timeout later. A reachable
 * follower that is not marked still takes the group (the transfer catches it up first); one that is
 * marked wins a tie.
 */
import type { NodeId, Status } from '../raft/index.ts';

/** The voter to transfer leadership to, or 0 when no other voter is reachable (or this node does not lead). */
export function handOverTarget(status: Status, reachable: (id: NodeId) => boolean): NodeId {
  let target = 0;
  let best = { match: -1, active: false };
  for (const [id, peer] of status.progress ?? []) {
    if (id === status.id || peer.isLearner || !reachable(id)) continue;
    if (peer.match < best.match || (peer.match === best.match && (best.active || !peer.recentActive))) continue;
    target = id;
    best = { match: peer.match, active: peer.recentActive };
  }
  return target;
}

