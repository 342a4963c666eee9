import { assert } from '../util/assert.ts';
import { message } from './messages.ts';
import type { Message, Snapshot } from './messages.ts';
import type { Raft } from './raft.ts';

/**
 * Followers and (pre-)candidates: accepting appends, heartbeats and snapshots from the leader,
 * counting votes, and reacting to a leadership transfer's TimeoutNow.
 */

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'app':
      r.electionElapsed = 0;
      r.lead = m.from;
      r.heardFromLeader(m.commit);
      handleAppend(r, m);
      return;
    case 'heartbeat':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      r.electionElapsed = 0;
      r.lead = m.from;
      r.heardFromLeader(m.snapshot!.metadata.index);
      handleSnapshot(r, m);
      return;
    case 'timeoutNow':
      // The leader hands over: campaign at once, skipping pre-vote and the others' leases.
      r.hup('transfer');
      return;
    default:
      // Responses addressed to an earlier role of ours.
      return;
  }
}

export function stepCandidate(r: Raft, m: Message): void {
  switch (m.type) {
    case 'app':
      // A leader of our term exists (paper 5.2): it won, we step down.
      r.becomeFollower(m.term, m.from);
      handleAppend(r, m);
      return;
    case 'heartbeat':
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case 'voteResp':
    case 'preVoteResp': {
      const expected = r.role === 'candidate' ? 'voteResp' : 'preVoteResp';
      if (m.type !== expected) return;
      const result = r.poll(m.from, !m.reject);
      if (result === 'won') {
        if (r.role === 'preCandidate') {
          r.campaign('election');
        } else {
          r.becomeLeader();
        }
      } else if (result === 'lost') {
        r.becomeFollower(r.term, 0);
      }
      return;
    }
    default:
      return;
  }
}

function handleAppend(r: Raft, m: Message): void {
  if (m.index < r.log.committed) {
    // Everything up to our commit index matches any leader's log: tell it where we are.
    r.send(message({ type: 'appResp', from: r.id, to: m.from, term: r.term, index: r.log.committed }));
    return;
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew >= 0) {
    r.send(message({ type: 'appResp', from: r.id, to: m.from, term: r.term, index: lastNew }));
    return;
  }
  // The consistency check failed. Point the leader at our last entry at or below the probe with a
  // term <= the probed term: every entry after it must differ from the leader's.
  const hint = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm);
  r.send(message({ type: 'appResp', from: r.id, to: m.from, term: r.term, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }));
}

function handleHeartbeat(r: Raft, m: Message): void {
  // A follower may have lost entries the leader still believes it holds (a replaced disk, before the
  // leader noticed the restart; a learner is never told to join): it commits only what it has.
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
  r.send(message({ type: 'heartbeatResp', from: r.id, to: m.from, term: r.term }));
}

function handleSnapshot(r: Raft, m: Message): void {
  assert(m.snapshot !== null, 'snapshot message without a snapshot');
  if (restore(r, m.snapshot)) {
    r.send(message({ type: 'appResp', from: r.id, to: m.from, term: r.term, index: r.log.lastIndex() }));
  } else {
    r.send(message({ type: 'appResp', from: r.id, to: m.from, term: r.term, index: r.log.committed }));
  }
}

/** Installs a leader's snapshot unless our log already covers it. Returns whether it was installed. */
function restore(r: Raft, snapshot: Snapshot): boolean {
  const { index, term, confState } = snapshot.metadata;
  if (index <= r.log.committed) return false;
  assert(r.role === 'follower', 'only a follower installs a snapshot');
  if (r.log.matchTerm(index, term)) {
    // Our log has the snapshot's last entry, hence (log matching) everything before it: just commit.
    r.log.commitTo(index);
    return false;
  }
  r.log.restore(snapshot);
  r.tracker.setConf(confState, r.log.lastIndex() + 1);
  return true;
}
