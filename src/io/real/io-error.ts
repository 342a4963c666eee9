/** Turns errors from node:fs and from the native addon (both carry code, syscall, path) into IoError. */
import { IoError } from '../../util/errors.ts';

export function toIoError(e: unknown, path: string, operation: string): IoError {
  if (e instanceof IoError) return e;
  const err = e as { code?: unknown; path?: unknown; message?: unknown } | undefined;
  const errno = typeof err?.code === 'string' ? err.code : 'EIO';
  const where = typeof err?.path === 'string' ? err.path : path;
  return new IoError(errno, where, operation, { cause: e });
}
