/**
 * One timer for many deadlines, armed for the earliest one that may still be pending. A call
 * that settles in time costs no timer operation of its own (a `setTimeout` and `clearTimeout`
 * per call showed in profiles of RPCs one at a time). When the timer fires, `expire(now)`
 * settles what is due and returns the earliest deadline still pending, if any.
 *
 * The timer is unref'd: pending work is kept alive by what it waits on (the broker socket),
 * not by its own timeout.
 */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires; never later than any pending deadline. */
  private armedFor = Infinity;

  constructor(
    private readonly expire: (now: number) => number | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new deadline: the timer will fire no later than it. */
  schedule(deadline: number): void {
    if (deadline < this.armedFor) this.arm(deadline);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.fire, Math.max(0, at - this.now()));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const next = this.expire(this.now());
    if (next !== undefined) this.arm(next);
  };
}
