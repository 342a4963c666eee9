import { assert } from '../util/assert.ts';
import { LogNotLoadedError } from './errors.ts';
import { entryBytes, message } from './messages.ts';
import type { Message, NodeId } from './messages.ts';
import type { Progress } from './progress.ts';
import type { Raft } from './raft.ts';

/**
 * The leader's side of log replication (paper 5.3): sending appends and snapshots, handling the
 * answers, advancing the commit index, heartbeats, and the last step of a leadership transfer.
 *
 * Appends are not sent the moment something changes: the leader marks `pendingFlush` and sends
 * once per Ready (flushAppends). Everything proposed or acknowledged in between then travels in
 * as few messages as the size limits allow, which is where batching comes from.
 */

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case 'appResp':
      handleAppendResponse(r, m);
      return;
    case 'heartbeatResp':
      handleHeartbeatResponse(r, m);
      return;
    case 'app':
    case 'heartbeat':
    case 'snapshot':
      // Same term, another leader: election safety is broken.
      assert(false, `leader ${r.id} got ${m.type} from ${m.from} in its own term ${r.term}`);
      return;
    case 'voteResp':
    case 'preVoteResp':
    case 'timeoutNow':
      // Late answers to an election we already won, or a stale transfer: nothing to do.
      return;
    case 'vote':
    case 'preVote':
      assert(false, 'vote requests are handled before the role dispatch');
  }
}

function handleAppendResponse(r: Raft, m: Message): void {
  const pr = r.tracker.progress.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  if (m.reject) {
    // Fast backtracking: the follower told us the last index at or below the probe whose term is
    // <= the probed term. If we know that term, skip every index of ours with a higher term too.
    let matchHint = m.rejectHint;
    if (m.logTerm > 0) matchHint = r.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, matchHint)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      r.pendingFlush = true;
    }
    return;
  }
  const updated = pr.maybeUpdate(m.index);
  if (updated || (pr.state === 'probe' && m.index === pr.match)) {
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= r.log.firstIndex()) {
      // The follower has the snapshot (or caught up another way): stream the log from there.
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    maybeCommit(r);
    r.pendingFlush = true;
  }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}

function handleHeartbeatResponse(r: Raft, m: Message): void {
  const pr = r.tracker.progress.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  // A lost probe (or its answer) is retried once per heartbeat round.
  pr.probeSent = false;
  if (pr.state !== 'snapshot' && pr.match < r.log.lastIndex()) pr.probeDue = true;
  if (pr.match < r.log.lastIndex() || pr.sentCommit < r.log.committed) r.pendingFlush = true;
}

/** Advances the commit index to what a majority stored, counting only entries of this term (paper 5.4.2). */
export function maybeCommit(r: Raft): boolean {
  const index = r.tracker.committed();
  if (index <= r.log.committed) return false;
  if (r.log.term(index) !== r.term) return false;
  r.log.commitTo(index);
  return true;
}

/** Sends every member what it is missing, as far as the flow-control limits allow. */
export function flushAppends(r: Raft): void {
  for (const [id, pr] of r.tracker.progress) {
    if (id === r.id) continue;
    let sent = false;
    while (maybeSendAppend(r, id, pr, false)) sent = true;
    if (!sent && pr.sentCommit < r.log.committed) sent = maybeSendAppend(r, id, pr, true);
    if (pr.probeDue) {
      pr.probeDue = false;
      if (!sent && pr.state === 'probe' && pr.match < r.log.lastIndex()) {
        // Nothing new to send (a new member's `next` starts past the last entry), yet the last
        // probe went unanswered: send it again, empty, or the follower never catches up.
        maybeSendAppend(r, id, pr, true);
      } else if (!sent && pr.state === 'replicate' && pr.match < r.log.lastIndex()) {
        if (pr.next - 1 < r.log.firstIndex() - 1) {
          // What the follower may be missing is compacted: restart from what it is known to
          // have, which leads to a snapshot.
          pr.becomeProbe();
          maybeSendAppend(r, id, pr, false);
        } else {
          sendReplicateProbe(r, id, pr);
        }
      }
    }
  }
}

/**
 * The probe to `to` went unanswered for RaftConfig.probeRetryTicks: probe again, empty (its answer
 * tells where the member's log is, and the entries follow). Empty, so that probing a member whose
 * broker is down every few ticks costs next to nothing.
 */
export function retryProbe(r: Raft, to: NodeId, pr: Progress): void {
  pr.probeSentTicks = 0;
  if (pr.next - 1 < r.log.firstIndex() - 1) {
    // What it lacks is compacted: the next flush decides on a snapshot.
    pr.probeSent = false;
    r.pendingFlush = true;
    return;
  }
  sendReplicateProbe(r, to, pr);
}

/** An empty append at `next - 1`, outside the window: see Progress.probeDue. */
function sendReplicateProbe(r: Raft, to: NodeId, pr: Progress): void {
  const prevIndex = pr.next - 1;
  r.send(message({ type: 'app', from: r.id, to, term: r.term, index: prevIndex, logTerm: r.log.term(prevIndex), commit: r.log.committed }));
}

/**
 * Sends one append (or a snapshot) to `to` if its progress allows. Returns whether something was
 * sent. With `sendIfEmpty`, sends even without entries, to carry a newer commit index.
 */
function maybeSendAppend(r: Raft, to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
  if (pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  if (prevIndex < r.log.firstIndex() - 1) return sendSnapshot(r, to, pr);
  let entries: ReturnType<typeof r.log.entriesFrom>;
  try {
    entries = r.log.entriesFrom(pr.next, r.cfg.maxMessageBytes);
  } catch (e) {
    // The entries are on disk and being loaded: send nothing now. The next heartbeat response (or
    // the owner's storageLoaded()) schedules another flush; a snapshot would be wrong and costly.
    if (e instanceof LogNotLoadedError) return false;
    throw e;
  }
  if (entries === null) return sendSnapshot(r, to, pr);
  if (entries.length === 0 && !sendIfEmpty) return false;
  const prevTerm = r.log.term(prevIndex);
  assert(prevTerm > 0 || prevIndex === 0, `no term for index ${prevIndex} inside the log`);
  let bytes = r.log.lastSliceBytes;
  if (bytes < 0) {
    bytes = 0;
    for (let i = 0; i < entries.length; i++) bytes += entryBytes(entries[i]!);
  }
  if (bytes > 0 && pr.isLearner && r.cfg.learnerSendBudget !== undefined && !r.cfg.learnerSendBudget.take(bytes)) {
    // Over the learners' allowance: tried again at the next tick (tickLeader).
    r.learnerThrottled = true;
    return false;
  }
  const commit = r.log.committed;
  r.send(message({ type: 'app', from: r.id, to, term: r.term, index: prevIndex, logTerm: prevTerm, entries, commit }));
  pr.sentEntries(entries.length, prevIndex + entries.length, bytes);
  pr.sentCommit = commit;
  return true;
}

function sendSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  // A snapshot is large: send it only to a follower we recently heard from.
  if (!pr.recentActive) return false;
  const snapshot = r.log.snapshot();
  assert(snapshot.metadata.index >= r.log.firstIndex() - 1, 'the snapshot does not cover the compacted prefix');
  r.send(message({ type: 'snapshot', from: r.id, to, term: r.term, snapshot }));
  pr.becomeSnapshot(snapshot.metadata.index);
  return true;
}

export function bcastHeartbeat(r: Raft): void {
  for (const [id, pr] of r.tracker.progress) {
    if (id === r.id) continue;
    // Never tell a follower to commit past what it is known to store.
    const commit = Math.min(pr.match, r.log.committed);
    r.send(message({ type: 'heartbeat', from: r.id, to: id, term: r.term, commit }));
  }
}

export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send(message({ type: 'timeoutNow', from: r.id, to, term: r.term }));
}
