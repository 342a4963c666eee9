/**
 * Progress of long runs (produce, consume) on stderr: one line rewritten in place at most five times a
 * second, shown when stderr is a terminal or when --progress asks for it (then as plain lines when
 * stderr is not a terminal, so logs stay readable). stdout stays clean for data.
 */
import { formatBytes } from './format.ts';

const INTERVAL_MS = 200;

export class Progress {
  private lastPrint = 0;
  private readonly started = Date.now();
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly label: string,
    private readonly enabled: boolean,
  ) {}

  static enabledFor(flag: boolean | undefined): boolean {
    return flag ?? process.stderr.isTTY === true;
  }

  update(messages: number, bytes: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastPrint < (this.tty ? INTERVAL_MS : 1000)) return;
    this.lastPrint = now;
    this.write(this.line(messages, bytes, now));
  }

  /** Prints the final line (when enabled), ending the in-place line. */
  done(messages: number, bytes: number): void {
    if (!this.enabled) return;
    this.write(this.line(messages, bytes, Date.now()));
    if (this.tty) process.stderr.write('\n');
  }

  private line(messages: number, bytes: number, now: number): string {
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    return `${this.label}: ${messages} messages, ${formatBytes(bytes)} in ${seconds.toFixed(1)} s (${Math.round(messages / seconds)} msg/s)`;
  }

  private write(line: string): void {
    process.stderr.write(this.tty ? `\r\x1b[K${line}` : `${line}\n`);
  }
}
