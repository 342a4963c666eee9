/**
 * W3C Trace Context `traceparent` values: `version-traceid-parentid-flags`, lowercase hex
 * (00-<32 hex>-<16 hex>-<2 hex>). Version 00 must be exactly that long; a later version may append
 * fields after a dash, and version ff is invalid. All-zero trace or span ids are invalid.
 */
export interface RemoteParent {
  readonly traceId: string;
  readonly spanId: string;
  /** The trace-flags byte; bit 0 is "sampled". */
  readonly traceFlags: number;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** Length of a version-00 value. */
const V00_LENGTH = 55;

/** The parent a traceparent value names, or null when the value is not valid W3C. */
export function parseTraceparent(value: string): RemoteParent | null {
  if (value.length < V00_LENGTH) return null;
  const version = value.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return null;
  if (version === '00' && value.length !== V00_LENGTH) return null;
  if (value.length > V00_LENGTH && value[V00_LENGTH] !== '-') return null;
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return null;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) return null;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) };
}
