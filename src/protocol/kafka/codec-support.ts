/**
 * Small helpers the generated codecs share: typed errors and constants. Kept apart from the reader and
 * writer so that the generated files import only what they use.
 */
import { StreamBusError } from '../../util/errors.ts';

export { protocolError } from './reader.ts';

/** The all-zero UUID, Kafka's "no id" (Uuid.ZERO_UUID). */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export function unsupportedVersion(message: string, version: number): StreamBusError {
  return new StreamBusError('SB_ERR_UNSUPPORTED_VERSION', `${message} has no version ${version}`);
}

/** Encoding a non-default value into a version that lacks the (non-ignorable) field would lose it silently. */
export function fieldNotInVersion(field: string, version: number): StreamBusError {
  return new StreamBusError('SB_ERR_UNSUPPORTED_VERSION', `${field} cannot be set at version ${version}`);
}

export function nullNotAllowed(field: string, version: number): StreamBusError {
  return new StreamBusError('SB_ERR_PROTOCOL', `${field} cannot be null at version ${version}`);
}
