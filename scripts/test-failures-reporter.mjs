// A node:test reporter that prints nothing while tests run and, at the end, a short list of every
// failed test with its file and the first lines of its error. It runs beside the TAP reporter so a
// log that keeps only its last lines (a CI summary) still names what failed.
export default async function* failures(source) {
  const failed = [];
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, details } = event.data;
    const error = details?.error;
    // A file's own top-level entry fails whenever one of its tests does; the test itself is listed.
    if (error?.failureType === 'subtestsFailed') continue;
    const cause = error?.cause ?? error;
    const lines = String(cause?.message ?? cause ?? 'failed').split('\n');
    const message = lines.slice(0, 30).map((l) => (l.length > 300 ? l.slice(0, 300) + '…' : l)).join('\n      ') + (lines.length > 30 ? `\n      … ${lines.length - 30} more line(s)` : '');
    failed.push(`  - ${name}\n    file: ${file ?? '?'}\n    error: ${message}\n`);
  }
  if (failed.length === 0) return;
  yield `\n# ${failed.length} failed test(s):\n`;
  for (const line of failed) yield line;
}
