/**
 * Wall-clock time in ms since the epoch with sub-millisecond precision, comparable between the bench's processes on
 * one machine (each process's `performance.timeOrigin` is on the same wall clock).
 */
export function clock(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
