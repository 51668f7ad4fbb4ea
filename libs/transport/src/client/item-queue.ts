/**
 * The buffer behind one async iterator: the producer pushes, the consumer pulls. It never drops an
 * item; the producer checks `length` and pauses reading when it passes the high-water mark.
 */
export class ItemQueue<T> implements AsyncIterator<T> {
  private readonly items: T[] = [];
  private waiting?: () => void;
  private finished = false;
  private failure?: Error;

  constructor(
    private readonly onPull: () => void,
    private readonly onReturn: () => void,
  ) {}

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.finished) return;
    this.items.push(item);
    this.wake();
  }

  /** No more items; the consumer drains what is buffered, then ends (or throws `failure`). */
  finish(failure?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = failure;
    this.wake();
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.items.length > 0) {
        const value = this.items.shift() as T;
        this.onPull();
        return { value, done: false };
      }
      if (this.finished) {
        if (this.failure) {
          const failure = this.failure;
          this.failure = undefined;
          throw failure;
        }
        return { value: undefined, done: true };
      }
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.finish();
    this.onReturn();
    return { value: undefined, done: true };
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}
