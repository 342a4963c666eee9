/**
 * The transaction coordinator's marker requests between brokers (types 56 and 57, docs/transport.md):
 * a coordinator asks the leader of a partition to write a transaction's commit or abort marker there,
 * as Kafka's coordinator sends WriteTxnMarkers. Bodies are plain arrays:
 *
 *   type 56  request  [requestId, producerId (decimal text), producerEpoch, commit, coordinatorEpoch, topic, partition]
 *   type 57  answer   [requestId, errorCode]   the Kafka error code of the write (0: visible there)
 *
 * Both decoders check every field: a malformed body is dropped with a log line by the caller.
 */
export const MSG_TXN_MARKER = 56;
export const MSG_TXN_MARKER_ANSWER = 57;

export interface TxnMarkerMessage {
  readonly requestId: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly commit: boolean;
  readonly coordinatorEpoch: number;
  readonly topic: string;
  readonly partition: number;
}

const isRequestId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isInt32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;

export function encodeTxnMarker(m: TxnMarkerMessage): unknown {
  return [m.requestId, m.producerId.toString(), m.producerEpoch, m.commit, m.coordinatorEpoch, m.topic, m.partition];
}

/** The request, or null when the body is malformed. */
export function decodeTxnMarker(body: unknown): TxnMarkerMessage | null {
  if (!Array.isArray(body) || body.length !== 7) return null;
  const [requestId, producerId, producerEpoch, commit, coordinatorEpoch, topic, partition] = body as unknown[];
  if (!isRequestId(requestId) || typeof producerId !== 'string' || !/^\d{1,19}$/.test(producerId)) return null;
  const id = BigInt(producerId);
  if (id > 0x7fffffffffffffffn) return null;
  if (!isInt32(producerEpoch) || producerEpoch < 0 || producerEpoch > 32767 || typeof commit !== 'boolean' || !isInt32(coordinatorEpoch)) return null;
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > 249 || !isInt32(partition) || partition < 0) return null;
  return { requestId, producerId: id, producerEpoch, commit, coordinatorEpoch, topic, partition };
}

export function encodeTxnMarkerAnswer(requestId: number, errorCode: number): unknown {
  return [requestId, errorCode];
}

export function decodeTxnMarkerAnswer(body: unknown): { requestId: number; errorCode: number } | null {
  if (!Array.isArray(body) || body.length !== 2) return null;
  const [requestId, errorCode] = body as unknown[];
  if (!isRequestId(requestId) || !isInt32(errorCode)) return null;
  return { requestId, errorCode };
}
