/** Tracks running handlers so shutdown can wait for them, up to a bound. */
export class InFlight {
  private running = 0;
  private idle: (() => void)[] = [];

  get size(): number {
    return this.running;
  }

  /** Counts `work` until it settles, whether it resolves or rejects. */
  track(work: Promise<unknown>): void {
    this.running++;
    work.then(this.done, this.done);
  }

  /** Resolves true once all tracked work settled, false if `timeoutMs` passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.running === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<boolean>((resolve) => {
        this.idle.push(() => resolve(true));
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private readonly done = (): void => {
    if (--this.running > 0) return;
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  };
}
