import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { assignExperts, expertHistogram, parseRouting } from '../workloads/routing.js';

const T = 8000;
const E = 8;
const K = 2;

function histogram(spec: string, seed = 1) {
  return expertHistogram(assignExperts(parseRouting(spec), T, E, K, seed), E);
}

describe('routing distributions', () => {
  it('every token gets k distinct experts in range', () => {
    for (const spec of ['uniform', 'zipf:1.5', 'hot:0.7']) {
      const a = assignExperts(parseRouting(spec), 500, E, 4, 3);
      for (let t = 0; t < 500; t++) {
        const row = Array.from(a.experts.subarray(t * 4, t * 4 + 4));
        expect(new Set(row).size).toBe(4);
        expect(row.every((e) => e >= 0 && e < E)).toBe(true);
      }
    }
  });

  it('uniform spreads tokens evenly (each expert within 10% of T·k/E)', () => {
    const h = histogram('uniform');
    expect(h.reduce((a, x) => a + x, 0)).toBe(T * K);
    for (const n of h) expect(Math.abs(n - (T * K) / E)).toBeLessThan((0.1 * (T * K)) / E);
  });

  it('zipf makes popularity fall with the expert index', () => {
    const h = histogram('zipf:1.2');
    for (let e = 1; e < E; e++) expect(h[e]).toBeLessThan(h[e - 1]);
    expect(h[0] / h[E - 1]).toBeGreaterThan(3);
  });

  it('zipf:0 is uniform', () => {
    const h = histogram('zipf:0');
    for (const n of h) expect(Math.abs(n - (T * K) / E)).toBeLessThan((0.1 * (T * K)) / E);
  });

  it('hot:F sends fraction F of tokens to expert 0, the rest uniformly', () => {
    // expected expert-0 tokens: F·T + (1 − F)·T·k/E = 0.5·8000 + 0.5·8000·2/8 = 5000
    const h = histogram('hot:0.5');
    expect(Math.abs(h[0] - 5000)).toBeLessThan(150);
    for (let e = 1; e < E; e++) expect(Math.abs(h[e] - (T * K - 5000) / (E - 1))).toBeLessThan(200);
  });

  it('hot:1 puts every token on expert 0', () => {
    expect(histogram('hot:1')[0]).toBe(T);
  });

  it('is deterministic for a seed and changes with it', () => {
    const a = assignExperts(parseRouting('zipf:1'), 256, E, K, 11).experts;
    const b = assignExperts(parseRouting('zipf:1'), 256, E, K, 11).experts;
    const c = assignExperts(parseRouting('zipf:1'), 256, E, K, 12).experts;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('a routing file fixes the assignment and is reused cyclically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-routing-'));
    const path = join(dir, 'r.json');
    writeFileSync(
      path,
      JSON.stringify({
        assignments: [
          [0, 1],
          [2, 3],
          [7, 6],
        ],
      }),
    );
    const a = assignExperts(parseRouting(`file:${path}`), 7, E, K, 1);
    expect(Array.from(a.experts)).toEqual([0, 1, 2, 3, 7, 6, 0, 1, 2, 3, 7, 6, 0, 1]);
    expect(expertHistogram(a, E)).toEqual([3, 3, 2, 2, 0, 0, 2, 2]);
  });
});

describe('routing input errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-routing-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return `file:${join(dir, name)}`;
  };

  it.each([
    ['banana', /unknown routing "banana"/],
    ['zipf:', /zipf needs a non-negative exponent/],
    ['zipf:-1', /zipf needs a non-negative exponent/],
    ['hot:1.5', /hot needs a fraction between 0 and 1/],
    ['file:', /needs a path/],
    ['file:/nonexistent/routing.json', /routing file \/nonexistent\/routing.json: ENOENT/],
  ])('%s is refused', (spec, message) => {
    expect(() => parseRouting(spec)).toThrow(UsageError);
    expect(() => parseRouting(spec)).toThrow(message);
  });

  it('a file that is not JSON is refused', () => {
    expect(() => parseRouting(file('bad.json', '{"assignments": [[0, 1]'))).toThrow(/routing file .*bad.json: .*JSON/);
  });

  it('a file without assignments is refused', () => {
    expect(() => parseRouting(file('empty.json', '{"rows": []}'))).toThrow(/expected \{"assignments"/);
  });

  it('a row naming an expert twice is refused', () => {
    expect(() => parseRouting(file('dup.json', '{"assignments": [[1, 1]]}'))).toThrow(/row 0 names an expert twice/);
  });

  it('a row with the wrong k or an expert out of range is refused against the layer', () => {
    expect(() => assignExperts(parseRouting(file('k.json', '{"assignments": [[0, 1, 2]]}')), 4, E, K, 1)).toThrow(
      /row 0 has 3 experts, the layer routes to top-2/,
    );
    expect(() => assignExperts(parseRouting(file('range.json', '{"assignments": [[0, 8]]}')), 4, E, K, 1)).toThrow(
      /row 0 names expert 8, the layer has 8/,
    );
  });
});
