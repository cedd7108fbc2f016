import type { DestinationStream } from 'pino';

/**
 * A pino destination that writes the lines logged in one turn of the event loop to stdout
 * in one `write` at its end (`setImmediate`), instead of pino's one synchronous `write`
 * syscall per line: under load the services log several lines per order from many
 * callbacks of the same turn, and those syscalls were a measurable share of their CPU
 * (docs/performance.md). A line waits at most for the rest of its turn. What is buffered
 * when the process exits is written on `exit`; a process killed with -9 loses at most that
 * turn's lines.
 */
export class BatchedStdout implements DestinationStream {
  private lines: string[] = [];
  private scheduled = false;
  private readonly flushNow = () => this.flush();

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {
    process.on('exit', this.flushNow);
  }

  write(line: string): void {
    this.lines.push(line);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushNow);
  }

  flush(): void {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const text = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    // stdout to a file or pipe is synchronous on Linux (Node's process.stdout): one syscall.
    this.out.write(text);
  }
}
