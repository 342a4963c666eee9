import { assert } from '../util/assert.ts';
import type { ConfState, NodeId } from './messages.ts';

/**
 * Single-server membership changes (Raft paper section 6, thesis chapter 4). Each change moves at
 * most one node into or out of the voter set, so any majority of the old voters overlaps any
 * majority of the new ones, and no joint consensus is needed.
 *
 * A new node always joins as a learner (it receives the log but neither votes nor counts for
 * commitment) and is promoted only once it has caught up, so adding it never stalls commitment
 * while it copies the log.
 *
 * - `addLearner`: a node that is not a member joins as a learner.
 * - `promoteLearner`: a caught-up learner becomes a voter.
 * - `removeNode`: a voter or learner leaves. The last voter cannot leave.
 */
export type ConfChangeType = 'addLearner' | 'promoteLearner' | 'removeNode';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

const TYPE_CODES: Record<ConfChangeType, number> = { addLearner: 1, promoteLearner: 2, removeNode: 3 };
const CODE_TYPES: Record<number, ConfChangeType> = { 1: 'addLearner', 2: 'promoteLearner', 3: 'removeNode' };

/** Encoded form, the payload of an EntryType.ConfChange entry: [type u8][nodeId u32 big-endian]. */
export const CONF_CHANGE_BYTES = 5;

export function encodeConfChange(change: ConfChange): Uint8Array {
  assert(Number.isInteger(change.nodeId) && change.nodeId > 0 && change.nodeId <= 0xffffffff, 'conf change node id out of range');
  const bytes = new Uint8Array(CONF_CHANGE_BYTES);
  bytes[0] = TYPE_CODES[change.type];
  new DataView(bytes.buffer).setUint32(1, change.nodeId);
  return bytes;
}

export function decodeConfChange(bytes: Uint8Array): ConfChange {
  assert(bytes.byteLength === CONF_CHANGE_BYTES, 'conf change entry has the wrong length');
  const type = CODE_TYPES[bytes[0]!];
  assert(type !== undefined, 'conf change entry has an unknown type');
  const nodeId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
  assert(nodeId > 0, 'conf change entry names node 0');
  return { type, nodeId };
}

/** Why a change cannot be applied to a configuration, or null when it can. */
export function confChangeProblem(conf: ConfState, change: ConfChange): string | null {
  const isVoter = conf.voters.includes(change.nodeId);
  const isLearner = conf.learners.includes(change.nodeId);
  switch (change.type) {
    case 'addLearner':
      return isVoter || isLearner ? 'already-member' : null;
    case 'promoteLearner':
      return isLearner ? null : 'not-learner';
    case 'removeNode':
      if (!isVoter && !isLearner) return 'not-member';
      return isVoter && conf.voters.length === 1 ? 'last-voter' : null;
  }
}

/** The configuration after `change`. Asserts the change is valid: committed changes always are. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const problem = confChangeProblem(conf, change);
  assert(problem === null, `invalid committed conf change ${change.type} ${change.nodeId}: ${problem}`);
  const id = change.nodeId;
  let voters = conf.voters.filter((v) => v !== id);
  let learners = conf.learners.filter((l) => l !== id);
  if (change.type === 'addLearner') learners = [...learners, id];
  if (change.type === 'promoteLearner') voters = [...voters, id];
  voters.sort((a, b) => a - b);
  learners.sort((a, b) => a - b);
  assert(voters.length > 0, 'a configuration keeps at least one voter');
  return { voters, learners };
}

export function sameConfState(a: ConfState, b: ConfState): boolean {
  return (
    a.voters.length === b.voters.length &&
    a.learners.length === b.learners.length &&
    a.voters.every((v, i) => v === b.voters[i]) &&
    a.learners.every((l, i) => l === b.learners[i])
  );
}
