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

/** Length of a version-00 value. */
const V00_LENGTH = 55;
const DASH = 0x2d;

/** True when value[from, to) is lowercase hex, and (when `nonZero`) not all '0'. */
function isHex(value: string, from: number, to: number, nonZero: boolean): boolean {
  let zero = nonZero;
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
    if (c !== 0x30) zero = false;
  }
  return !zero;
}

/**
 * The parent a traceparent value names, or null when the value is not valid W3C. Checked character by
 * character, without regular expressions or substrings: every produce request's first record goes
 * through here, sampled or not.
 */
export function parseTraceparent(value: string): RemoteParent | null {
  if (value.length < V00_LENGTH) return null;
  if (!isHex(value, 0, 2, false) || (value.charCodeAt(0) === 0x66 && value.charCodeAt(1) === 0x66)) return null; // version ff is invalid
  const v00 = value.charCodeAt(0) === 0x30 && value.charCodeAt(1) === 0x30;
  if (v00 && value.length !== V00_LENGTH) return null;
  if (value.length > V00_LENGTH && value.charCodeAt(V00_LENGTH) !== DASH) return null;
  if (value.charCodeAt(2) !== DASH || value.charCodeAt(35) !== DASH || value.charCodeAt(52) !== DASH) return null;
  if (!isHex(value, 3, 35, true) || !isHex(value, 36, 52, true) || !isHex(value, 53, 55, false)) return null;
  return { traceId: value.slice(3, 35), spanId: value.slice(36, 52), traceFlags: parseInt(value.slice(53, 55), 16) };
}
