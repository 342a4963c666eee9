import type { Command } from './env.ts';

/**
 * Scenario script files. A file is a list of blocks separated by blank lines; each block is
 * optional `#` comment lines, one command line, a `----` line, and the expected output (no blank
 * lines). Commands are `name arg arg key=value ...`.
 */
export interface Block {
  readonly comments: readonly string[];
  readonly command: string;
  readonly expected: readonly string[];
  /** 1-based line of the command, for error messages. */
  readonly line: number;
}

export function parseScript(text: string, file: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.trim() === '') {
      i++;
      continue;
    }
    const comments: string[] = [];
    while (i < lines.length && lines[i]!.startsWith('#')) comments.push(lines[i++]!);
    if (i >= lines.length || lines[i]!.trim() === '') {
      // Trailing comments at the end of a file (or before a blank line) are kept as a block without a command.
      blocks.push({ comments, command: '', expected: [], line: i });
      continue;
    }
    const line = i + 1;
    const command = lines[i++]!;
    if (lines[i] !== '----') throw new Error(`${file}:${i + 1}: expected ---- after the command`);
    i++;
    const expected: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') expected.push(lines[i++]!);
    blocks.push({ comments, command, expected, line });
  }
  return blocks;
}

export function renderScript(blocks: readonly Block[], outputs: readonly (readonly string[])[]): string {
  const parts = blocks.map((block, i) => {
    if (block.command === '') return block.comments.join('\n');
    return [...block.comments, block.command, '----', ...outputs[i]!].join('\n');
  });
  return parts.join('\n\n') + '\n';
}

export function parseCommand(line: string): Command {
  const words = line.trim().split(/\s+/);
  const args: string[] = [];
  const options = new Map<string, string>();
  for (const word of words.slice(1)) {
    const eq = word.indexOf('=');
    if (eq > 0) options.set(word.slice(0, eq), word.slice(eq + 1));
    else args.push(word);
  }
  return { name: words[0]!, args, options };
}
