/**
 * A compact, human-readable rendering of one pino JSON line, for `logging.format: pretty`:
 * `12:00:01.123 INFO  broker ready port=9092`. Kept here (a few lines) rather than pulling in a
 * pretty-printer with a dozen dependencies into the single binary.
 */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

export function formatPrettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const level = String(entry.level ?? '').toUpperCase().padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [time, level, String(entry.msg ?? ''), ...fields].filter(Boolean).join(' ');
}
