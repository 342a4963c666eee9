import { EntryType, decodeConfChange } from '../../../src/raft/index.ts';
import type { Entry, Message, Ready, Snapshot } from '../../../src/raft/index.ts';

/**
 * Text forms of the core's values for scenario scripts: short, stable and free of blank lines.
 * Payloads are shown as UTF-8 text (scenarios propose short words); the no-op entry as `noop`.
 */

const decoder = new TextDecoder();

export function formatEntry(entry: Entry): string {
  return `${entry.term}/${entry.index} ${formatData(entry)}`;
}

function formatData(entry: Entry): string {
  if (entry.type === EntryType.ConfChange) {
    const change = decodeConfChange(entry.data);
    return `${change.type}(${change.nodeId})`;
  }
  return entry.data.length === 0 ? 'noop' : decoder.decode(entry.data);
}

export function formatEntries(entries: readonly Entry[]): string {
  return `[${entries.map(formatEntry).join(', ')}]`;
}

export function formatSnapshot(snapshot: Snapshot): string {
  const { index, term, confState } = snapshot.metadata;
  const learners = confState.learners.length > 0 ? ` learners=${confState.learners.join(',')}` : '';
  return `${term}/${index} voters=${confState.voters.join(',')}${learners} data=${decoder.decode(snapshot.data) || '-'}`;
}

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'app':
      return `${head} prev=${m.logTerm}/${m.index} commit=${m.commit} entries=${formatEntries(m.entries)}`;
    case 'appResp':
      return m.reject ? `${head} reject index=${m.index} hint=${m.logTerm}/${m.rejectHint}` : `${head} index=${m.index}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}`;
    case 'vote':
    case 'preVote':
      return `${head} last=${m.logTerm}/${m.index}${m.leaderTransfer ? ' transfer' : ''}`;
    case 'voteResp':
    case 'preVoteResp':
      return m.reject ? `${head} reject` : `${head} granted`;
    case 'snapshot':
      return `${head} snapshot=${formatSnapshot(m.snapshot!)}`;
    case 'heartbeatResp':
    case 'timeoutNow':
      return head;
  }
}

/** The non-empty parts of a Ready, one per line, indented. */
export function formatReady(id: number, rd: Ready): string[] {
  const lines = [`ready ${id}:`];
  if (rd.softState !== null) lines.push(`  role=${rd.softState.role} lead=${rd.softState.lead}`);
  if (rd.hardState !== null) lines.push(`  hard state term=${rd.hardState.term} vote=${rd.hardState.vote} commit=${rd.hardState.commit}`);
  if (rd.snapshot !== null) lines.push(`  snapshot ${formatSnapshot(rd.snapshot)}`);
  if (rd.entries.length > 0) lines.push(`  persist ${formatEntries(rd.entries)}`);
  if (rd.committedEntries.length > 0) lines.push(`  apply ${formatEntries(rd.committedEntries)}`);
  for (const m of rd.messages) lines.push(`  send ${formatMessage(m)}`);
  return lines;
}
