/** A duration for people: 42s, 2m10s, 1h05m. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * Where a long run stands after each case process: how many are done, in how long, and about how
 * long the rest will take at the mean time per process so far (cases differ, hence "about").
 */
export function progressText(done: number, left: number, elapsedMs: number): string {
  const total = done + left;
  if (left === 0) return `${done} of ${total} done in ${formatDuration(elapsedMs)}`;
  return `${done} of ${total} done in ${formatDuration(elapsedMs)}, about ${formatDuration((elapsedMs / done) * left)} left`;
}
