/**
 * MessagePack for values that cross between brokers, through msgpackr, restricted to plain data (see
 * plain-msgpack.ts). Both directions check the bytes: a sender gets SB_ERR_PEER_MESSAGE at once for a
 * value that would not arrive as sent (a Date, a Set, `undefined` inside an array, a Map with non-string
 * keys), and a receiver gets SB_ERR_PEER_PROTOCOL for anything a peer should never have sent.
 *
 * What arrives: maps as plain objects, binary as a Buffer viewing the received bytes (no copy), 64-bit
 * integers as bigint, every other number as a number. Object properties that are `undefined` are left
 * out, as JSON.stringify does, so optional fields round-trip as absent. Senders should keep to plain
 * objects, arrays, strings, numbers, bigints, booleans, null and Buffers: msgpackr turns some other
 * values into plain data on the way (a Set into an array, a Map with string keys into an object, any
 * typed array into its bytes), and those cannot be told apart from the bytes.
 */
import { Packr } from 'msgpackr';
import { StreamBusError } from '../../util/errors.ts';
import { checkPlainMsgpack } from './plain-msgpack.ts';

// No records (msgpackr's shared key structures): each value stands alone, so any frame decodes by itself.
// skipValues is documented by msgpackr but missing from its typings, hence the options held in a variable.
const options = { useRecords: false, mapsAsObjects: true, skipValues: [undefined] };
const codec = new Packr(options);

/** The MessagePack bytes of `value`. The buffer stays valid: later packing never writes into it. */
export function packPlain(value: unknown): Buffer {
  let bytes: Buffer;
  try {
    bytes = codec.pack(value);
  } catch (err) {
    throw new StreamBusError('SB_ERR_PEER_MESSAGE', `value cannot be encoded: ${(err as Error).message}`, { cause: err });
  }
  try {
    checkPlainMsgpack(bytes);
  } catch (err) {
    throw new StreamBusError('SB_ERR_PEER_MESSAGE', `value is not plain data (${(err as Error).message})`, { cause: err });
  }
  return bytes;
}

/** The value in `bytes`, which must hold exactly one plain MessagePack value. */
export function unpackPlain(bytes: Buffer): unknown {
  checkPlainMsgpack(bytes);
  try {
    return codec.unpack(bytes);
  } catch (err) {
    // The shape was checked, so this is msgpackr refusing what it read (a malformed string, say).
    throw new StreamBusError('SB_ERR_PEER_PROTOCOL', `msgpack value cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
}
