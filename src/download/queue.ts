import pLimit from 'p-limit';

/**
 * The download queue: at most `concurrency` tasks at once (p-limit), the largest waiting task
 * first. Longest first keeps one big video from starting last and running alone at the end
 * (bench/README.md measures the tail it saves). A task that throws does not stop the others;
 * `drain()` raises the first such error once all are done. After `signal` aborts, nothing
 * more starts and a task's error is the interruption's, not one to raise.
 */
export class DownloadQueue {
  private readonly limit;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waiting = new LargestFirst();
  private seq = 0;
  private readonly errors: unknown[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  /** Tasks waiting for a slot beyond which `room()` makes the producer wait. */
  private readonly backlog: number;

  /**
   * `backlog`: how many tasks may wait. A long one gives largest-first a choice; a short one
   * (verify, where order barely matters) keeps tasks from outliving the young generation, so
   * a million of them are not garbage the old generation must collect (bench/README.md).
   */
  constructor(
    concurrency: number,
    private readonly signal: AbortSignal,
    backlog = Math.max(256, concurrency * 16),
  ) {
    this.limit = pLimit(concurrency);
    this.backlog = backlog;
  }

  /**
   * Resolves once fewer than the backlog's worth of tasks wait: a producer that awaits this
   * before each batch (a page) never runs far ahead of the downloads.
   */
  room(): Promise<void> {
    if (this.waiting.size < this.backlog || this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Queue a task; `weight` (its estimated bytes) orders it among those still waiting. */
  schedule(weight: number, task: () => Promise<void>): void {
    this.waiting.push({ weight, seq: this.seq++, task });
    const run = this.limit(async () => {
      // Each slot runs whichever task is best now, not necessarily the one queued with it.
      const next = this.waiting.pop();
      if (this.waiting.size < this.backlog || this.signal.aborted) for (const wake of this.roomWaiters.splice(0)) wake();
      if (next === undefined || this.signal.aborted) return;
      try {
        await next.task();
      } catch (error) {
        if (!this.signal.aborted) this.errors.push(error);
      }
    });
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Wait for every scheduled task; then raise the first unexpected error, if any. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (this.errors.length > 0) throw this.errors[0];
  }
}

interface Waiting {
  weight: number;
  seq: number;
  task: () => Promise<void>;
}

/** A binary max-heap on (weight, then earliest seq). */
class LargestFirst {
  private readonly heap: Waiting[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(entry: Waiting): void {
    const heap = this.heap;
    heap.push(entry);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      const above = heap[parent];
      if (above === undefined || !before(entry, above)) break;
      heap[i] = above;
      heap[parent] = entry;
      i = parent;
    }
  }

  pop(): Waiting | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    for (let i = 0; ; ) {
      let best = i;
      for (const child of [2 * i + 1, 2 * i + 2]) {
        const candidate = heap[child];
        const current = heap[best];
        if (candidate !== undefined && current !== undefined && before(candidate, current)) best = child;
      }
      if (best === i) break;
      const a = heap[i];
      const b = heap[best];
      if (a === undefined || b === undefined) break;
      heap[i] = b;
      heap[best] = a;
      i = best;
    }
    return top;
  }
}

function before(a: Waiting, b: Waiting): boolean {
  return a.weight > b.weight || (a.weight === b.weight && a.seq < b.seq);
}
