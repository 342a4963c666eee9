/**
 * The messages the controller sends over the peer channel (peer-channel.ts) to forward commands from
 * any broker to the controller's leader. Types 40-47 are the controller's (docs/transport.md).
 *
 *   type 40  forward  [requestId, command]                         a broker asks the leader to apply a command
 *   type 41  answer   [requestId, 0, error, message, firstProducerId, index]   the command's result (firstProducerId
 *                     as text) and the log index the leader had applied when it answered
 *                     [requestId, 1, leaderId]                       not the leader (0: none known): ask again
 *
 * A forwarded command's shape is checked (metadata/command-shape.ts) before the leader looks at it.
 */
import { isMetadataError, type MetadataCommand, type MetadataResult } from '../../metadata/cluster-state.ts';
import { commandShapeProblem } from '../../metadata/command-shape.ts';
import type { PeerChannel } from '../peer-channel.ts';

/** The part of the peer channel the controller uses. */
export type ControllerChannel = Pick<PeerChannel, 'send' | 'onMessage'>;

export const MSG_FORWARD = 40;
export const MSG_ANSWER = 41;

export type ForwardAnswer =
  | { readonly kind: 'result'; readonly result: MetadataResult; readonly appliedIndex: number }
  | { readonly kind: 'not-leader'; readonly leader: number };

const REQUEST_ID_MAX = Number.MAX_SAFE_INTEGER;

export function encodeForward(requestId: number, cmd: MetadataCommand): unknown {
  return [requestId, cmd];
}

/** The request in a forward message, or why it is malformed (with its id when that much was readable). */
export function decodeForward(body: unknown): { requestId: number; cmd: MetadataCommand } | { requestId: number | null; problem: string } {
  if (!Array.isArray(body) || body.length !== 2) return { requestId: null, problem: 'a forward message is [requestId, command]' };
  const [requestId, cmd] = body as [unknown, unknown];
  if (!isRequestId(requestId)) return { requestId: null, problem: 'the request id is not a positive integer' };
  const problem = commandShapeProblem(cmd);
  return problem === null ? { requestId, cmd: cmd as MetadataCommand } : { requestId, problem };
}

export function encodeAnswer(requestId: number, answer: ForwardAnswer): unknown {
  if (answer.kind === 'not-leader') return [requestId, 1, answer.leader];
  const { error, message, firstProducerId } = answer.result;
  return [requestId, 0, error, message ?? null, firstProducerId === undefined ? null : firstProducerId.toString(), answer.appliedIndex];
}

/** The answer in an answer message, or null when it is malformed (the asker then times out). */
export function decodeAnswer(body: unknown): { requestId: number; answer: ForwardAnswer } | null {
  if (!Array.isArray(body) || body.length < 3 || !isRequestId(body[0])) return null;
  const requestId = body[0] as number;
  if (body[1] === 1 && body.length === 3 && Number.isSafeInteger(body[2]) && (body[2] as number) >= 0) {
    return { requestId, answer: { kind: 'not-leader', leader: body[2] as number } };
  }
  if (body[1] !== 0 || body.length !== 6) return null;
  const [, , error, message, firstProducerId, appliedIndex] = body as unknown[];
  if (typeof appliedIndex !== 'number' || !Number.isSafeInteger(appliedIndex) || appliedIndex < 0) return null;
  if (error !== null && !isMetadataError(error)) return null;
  if (message !== null && typeof message !== 'string') return null;
  if (firstProducerId !== null && (typeof firstProducerId !== 'string' || !/^\d{1,19}$/.test(firstProducerId))) return null;
  const result: MetadataResult = { error };
  if (message !== null) result.message = message;
  if (firstProducerId !== null) result.firstProducerId = BigInt(firstProducerId);
  return { requestId, answer: { kind: 'result', result, appliedIndex } };
}

function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= REQUEST_ID_MAX;
}
