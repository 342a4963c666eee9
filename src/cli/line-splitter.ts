/**
 * Splits a byte stream into lines at '\n', keeping every other byte as it is (a '\r' before the '\n'
 * stays part of the line, so what goes in is what comes out). A last line without '\n' still counts;
 * an empty stream or a stream ending in '\n' adds no empty line. Lines are views into the chunks (or a
 * copy when a line spans chunks).
 */
const NEWLINE = 0x0a;

export async function* splitLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer[]> {
  let carry: Buffer | null = null;
  for await (const raw of chunks) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    const lines: Buffer[] = [];
    let start = 0;
    let at = chunk.indexOf(NEWLINE, 0);
    while (at >= 0) {
      const piece = chunk.subarray(start, at);
      lines.push(carry ? Buffer.concat([carry, piece]) : piece);
      carry = null;
      start = at + 1;
      at = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) carry = carry ? Buffer.concat([carry, chunk.subarray(start)]) : chunk.subarray(start);
    if (lines.length > 0) yield lines;
  }
  if (carry && carry.length > 0) yield [carry];
}
