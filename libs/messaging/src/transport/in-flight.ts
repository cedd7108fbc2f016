/** Tracks running handlers so shutdown can wait for them, up to a bound. */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  get size(): number {
    return this.running.size;
  }

  track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined).finally(() => this.running.delete(settled));
    this.running.add(settled);
  }

  /** Resolves true once all tracked work settled, false if `timeoutMs` passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([Promise.all(this.running).then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
