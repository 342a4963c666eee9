/**
 * What the controller's Raft log holds: one metadata command per entry, or the entry that names the
 * cluster, as UTF-8 JSON (`{"v":1,"cmd":{...}}`, `{"v":1,"init":"<cluster id>"}`). JSON because the
 * commands are small, rare and worth reading in a dump of the log. Only a leader that checked the
 * command writes an entry, so a log entry that does not decode is a broken log or a newer version:
 * decoding throws and the group stops rather than guess.
 */
import type { ClusterSnapshotV2, MetadataCommand } from '../../metadata/cluster-state.ts';
import { commandShapeProblem } from '../../metadata/command-shape.ts';
import { StreamBusError } from '../../util/errors.ts';

const VERSION = 1;

export type ControllerEntry = { readonly kind: 'command'; readonly cmd: MetadataCommand } | { readonly kind: 'init'; readonly clusterId: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeControllerEntry(entry: ControllerEntry): Uint8Array {
  const value = entry.kind === 'command' ? { v: VERSION, cmd: entry.cmd } : { v: VERSION, init: entry.clusterId };
  return encoder.encode(JSON.stringify(value));
}

export function decodeControllerEntry(data: Uint8Array): ControllerEntry {
  const value = parse(data, 'entry') as { v?: unknown; cmd?: unknown; init?: unknown };
  if (value.v !== VERSION) throw broken(`entry version ${JSON.stringify(value.v)} is not ${VERSION}`);
  if (typeof value.init === 'string' && value.init.length > 0) return { kind: 'init', clusterId: value.init };
  const problem = commandShapeProblem(value.cmd);
  if (problem !== null) throw broken(`entry holds no valid command: ${problem}`);
  return { kind: 'command', cmd: value.cmd as MetadataCommand };
}

/** The snapshot of the controller's state: null before the cluster was named. */
export function encodeControllerSnapshot(state: ClusterSnapshotV2 | null): Uint8Array {
  return encoder.encode(JSON.stringify({ v: VERSION, state }));
}

export function decodeControllerSnapshot(data: Uint8Array): ClusterSnapshotV2 | null {
  if (data.byteLength === 0) return null;
  const value = parse(data, 'snapshot') as { v?: unknown; state?: unknown };
  if (value.v !== VERSION) throw broken(`snapshot version ${JSON.stringify(value.v)} is not ${VERSION}`);
  const state = value.state as ClusterSnapshotV2 | null;
  if (state !== null && (typeof state !== 'object' || state.version !== 2)) throw broken('snapshot holds no version-2 metadata');
  return state;
}

function parse(data: Uint8Array, what: string): object {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw broken(`${what} is not UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw broken(`${what} is not a JSON object`);
  return value;
}

function broken(message: string): StreamBusError {
  return new StreamBusError('SB_ERR_CONTROLLER_LOG', `controller log: ${message}`);
}
