/**
 * Work started for nobody who waits (say, settling an order after a 202): each task's
 * failure goes to `onError` instead of becoming an unhandled rejection, and `drain()`, called
 * at shutdown, resolves once every task started so far has ended.
 */
export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly onError: (error: unknown, name: string) => void) {}

  start(name: string, task: () => Promise<unknown>): void {
    const run = task().then(
      () => undefined,
      (error: unknown) => this.onError(error, name),
    );
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  get size(): number {
    return this.running.size;
  }

  async drain(): Promise<void> {
    await Promise.all(this.running);
  }
}
