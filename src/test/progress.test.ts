import { describe, expect, it } from 'vitest';
import { formatDuration, progressText } from '../report/progress.js';

describe('progress of a long run', () => {
  it.each([
    [42_400, '42s'],
    [130_000, '2m10s'],
    [3_599_000, '59m59s'],
    [3_900_000, '1h05m'],
    [36_000_000, '10h00m'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
  it('estimates what is left at the mean time per process so far', () => {
    expect(progressText(3, 7, 90_000)).toBe('3 of 10 done in 1m30s, about 3m30s left');
  });
  it('says only what it took once nothing is left', () => {
    expect(progressText(10, 0, 300_000)).toBe('10 of 10 done in 5m00s');
  });
});
