/**
 * Checks that bytes hold exactly one MessagePack value made only of plain data, before msgpackr sees
 * them: nil, booleans, integers, floats, strings, binary, arrays, and maps whose keys are strings
 * (never `__proto__`). Extension types (msgpackr's records, dates, sets, errors, regular expressions,
 * typed arrays, references, ...) are refused, so a peer cannot reach any decoding path beyond the core
 * types, and a sender learns at once that a value would not arrive as it was sent.
 *
 * Work is linear in the bytes and needs no recursion: containers are tracked on an explicit stack that
 * is at most `PLAIN_DEPTH_MAX` deep, and a container that declares more items than there are bytes left
 * is refused before any of it is read. Every failure is a StreamBusError with SB_ERR_PEER_PROTOCOL
 * naming the byte position.
 */
import { StreamBusError } from '../../util/errors.ts';

/** Deepest nesting of arrays and maps accepted. */
export const PLAIN_DEPTH_MAX = 64;

const PROTO_KEY = Buffer.from('__proto__');

function fail(at: number, what: string): never {
  throw new StreamBusError('SB_ERR_PEER_PROTOCOL', `msgpack value: ${what} at byte ${at}`);
}

/** Throws unless `bytes` is exactly one plain-data MessagePack value. */
export function checkPlainMsgpack(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  // For each open container: items still to read, and whether the next one is a map key.
  const remaining: number[] = [];
  const isMap: boolean[] = [];
  let keyNext = false;
  let opened = false;
  let at = 0;
  /** Reads a length of `size` bytes at `at` (past the token). */
  const length = (size: 1 | 2 | 4): number => {
    if (at + size > end) fail(at, 'length runs past the end');
    const n = size === 1 ? view.getUint8(at) : size === 2 ? view.getUint16(at) : view.getUint32(at);
    at += size;
    return n;
  };
  const skip = (n: number, token: number): void => {
    if (n > end - at) fail(at, `item 0x${token.toString(16)} of ${n} bytes runs past the end`);
    at += n;
  };
  const open = (items: number, map: boolean): void => {
    if (remaining.length >= PLAIN_DEPTH_MAX) fail(at, `nesting deeper than ${PLAIN_DEPTH_MAX}`);
    // Every item takes at least one byte, so a count beyond the bytes left is a lie.
    if ((map ? items * 2 : items) > end - at) fail(at, `container declares ${items} items with ${end - at} bytes left`);
    remaining.push(map ? items * 2 : items);
    isMap.push(map);
    opened = true;
  };

  do {
    if (at >= end) fail(at, 'value runs past the end');
    const token = bytes[at]!;
    const start = at++;
    if (keyNext) {
      const size = token >= 0xa0 && token <= 0xbf ? token - 0xa0 : token === 0xd9 ? length(1) : token === 0xda ? length(2) : token === 0xdb ? length(4) : -1;
      if (size < 0) fail(start, `map key of type 0x${token.toString(16)} is not a string`);
      if (size === PROTO_KEY.length && at + size <= end && PROTO_KEY.equals(bytes.subarray(at, at + size))) fail(start, 'map key __proto__');
      skip(size, token);
    } else if (token <= 0x7f || token >= 0xe0 || token === 0xc0 || token === 0xc2 || token === 0xc3) {
      // fixint, nil, false, true: the token is the whole value
    } else if (token <= 0x8f) open(token - 0x80, true);
    else if (token <= 0x9f) open(token - 0x90, false);
    else if (token <= 0xbf) skip(token - 0xa0, token);
    else {
      switch (token) {
        case 0xc4: case 0xd9: skip(length(1), token); break; // bin 8, str 8
        case 0xc5: case 0xda: skip(length(2), token); break; // bin 16, str 16
        case 0xc6: case 0xdb: skip(length(4), token); break; // bin 32, str 32
        case 0xcc: case 0xd0: skip(1, token); break; // uint 8, int 8
        case 0xcd: case 0xd1: skip(2, token); break; // uint 16, int 16
        case 0xca: case 0xce: case 0xd2: skip(4, token); break; // float 32, uint 32, int 32
        case 0xcb: case 0xcf: case 0xd3: skip(8, token); break; // float 64, uint 64, int 64
        case 0xdc: open(length(2), false); break;
        case 0xdd: open(length(4), false); break;
        case 0xde: open(length(2), true); break;
        case 0xdf: open(length(4), true); break;
        default: fail(start, `type 0x${token.toString(16)} is not plain data`); // ext types and the unused 0xc1
      }
    }
    // The item just read is done unless it opened a container with items to come. A done item counts
    // against its container, and a container that becomes full is a done item of its own parent.
    let done = !opened || remaining[remaining.length - 1] === 0;
    if (opened && done) close(remaining, isMap);
    opened = false;
    while (done && remaining.length > 0) {
      done = --remaining[remaining.length - 1]! === 0;
      if (done) close(remaining, isMap);
    }
    keyNext = remaining.length > 0 && isMap[isMap.length - 1]! && remaining[remaining.length - 1]! % 2 === 0;
  } while (remaining.length > 0);
  if (at !== end) fail(at, `${end - at} bytes after the value`);
}

function close(remaining: number[], isMap: boolean[]): void {
  remaining.pop();
  isMap.pop();
}
