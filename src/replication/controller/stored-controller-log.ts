/**
 * What this broker's controller log says before the group starts: the cluster id, so the broker's first
 * handshakes already present it (handshake.ts clusterIdentity), and the voters, so a start can check
 * that cluster.nodes gives an address for each. Only committed entries count: an entry past the stored
 * commit index may yet be replaced by another leader's (presenting that id would lock the broker out of
 * its own cluster).
 */
import { applyConfChange, decodeConfChange, EntryType, type ConfState, type Entry, type LogStorage } from '../../raft/index.ts';
import { decodeControllerEntry, decodeControllerSnapshot } from './controller-entry.ts';

/** Entries read per step while looking for the naming entry (it is the first non-empty one). */
const SCAN_BATCH_BYTES = 64 * 1024;

type StoredLog = Pick<LogStorage, 'snapshot' | 'entries' | 'firstIndex' | 'lastIndex'>;

/** `commit`: the commit index stored with the log's hard state. */
export function storedClusterId(store: StoredLog, commit: number): string | null {
  const snapshot = store.snapshot();
  if (snapshot.metadata.index > 0) {
    const state = decodeControllerSnapshot(snapshot.data);
    if (state !== null) return state.clusterId;
  }
  for (const entry of committedEntries(store, commit)) {
    // No-ops and membership changes carry no metadata; the first entry that does names the cluster
    // (a leader proposes nothing else before the name is applied).
    if (entry.type !== EntryType.Normal || entry.data.byteLength === 0) continue;
    const decoded = decodeControllerEntry(entry.data);
    return decoded.kind === 'init' ? decoded.clusterId : null;
  }
  return null;
}

/** The membership once the committed entries are applied: the snapshot's, changed by the log's conf changes. */
export function storedConfState(store: StoredLog, commit: number): ConfState {
  let conf = store.snapshot().metadata.confState;
  for (const entry of committedEntries(store, commit)) {
    if (entry.type === EntryType.ConfChange) conf = applyConfChange(conf, decodeConfChange(entry.data));
  }
  return conf;
}

function* committedEntries(store: StoredLog, commit: number): Generator<Entry> {
  const last = Math.min(commit, store.lastIndex());
  for (let next = store.firstIndex(); next <= last; ) {
    const entries = store.entries(next, last + 1, SCAN_BATCH_BYTES);
    yield* entries;
    next += entries.length;
  }
}
