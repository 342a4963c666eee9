/**
 * Client payloads in the simulator: a unique proposal id, a zero byte, then padding of a random
 * length so that message and in-flight byte limits are exercised.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodePayload(id: string, paddingBytes: number): Uint8Array {
  const head = encoder.encode(id);
  const bytes = new Uint8Array(head.length + 1 + paddingBytes);
  bytes.set(head, 0);
  for (let i = head.length + 1; i < bytes.length; i++) bytes[i] = i & 0xff;
  return bytes;
}

/** The proposal id of a payload, or null for an empty entry (a leader's no-op). */
export function decodePayload(bytes: Uint8Array): string | null {
  if (bytes.length === 0) return null;
  const end = bytes.indexOf(0);
  if (end <= 0) throw new Error('malformed payload');
  return decoder.decode(bytes.subarray(0, end));
}
