/** Counts consumed messages; the workload awaits the n-th one from now. */
export class Arrivals {
  private count = 0;
  private waiter?: { target: number; resolve: () => void };

  hit(): void {
    this.count++;
    if (this.waiter && this.count >= this.waiter.target) {
      this.waiter.resolve();
      this.waiter = undefined;
    }
  }

  /** Resolves once `n` more messages have arrived, or rejects after `timeoutMs`. */
  next(n: number, timeoutMs: number): Promise<void> {
    if (this.waiter) throw new Error('one wait at a time');
    const target = this.count + n;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(
          new Error(
            `only ${n - (target - this.count)} of ${n} messages arrived in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.waiter = {
        target,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }
}
