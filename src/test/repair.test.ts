import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { integrityOf } from '../results/integrity.js';
import { readResultFile } from '../results/io.js';
import { ResultSession } from '../results/session.js';
import { splitRepetitions } from '../run/repetitions.js';
import { moebench } from './helpers/cli.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'fake-run.json');

/**
 * What a 1.2 writer saved for three processes whose medians were 1, 1 and 100 ms: their
 * arithmetic mean, 34 ms, with Student's t on a linear scale, 34 ± 141.99 ms.
 */
function negativeIntervalFile(dir: string, name = 'negative.json'): string {
  const raw = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown> & { cases: Record<string, unknown>[] };
  const samplesMs = [1, 1, 1, 1, 1, 1, 100, 100, 100];
  const summary = { ...(raw.cases[0].summary as object), count: 9, medianMs: 34, medianCi95Ms: [-107.99, 175.99], medianCiRelHalfWidth: 4.176 };
  raw.cases = [
    {
      ...raw.cases[0],
      status: 'noisy',
      error: 'over 3 repetitions the 95% interval of the median is ±417.6% (target ±2.0%)',
      samplesMs,
      warmupSamplesMs: [],
      summary,
      throughput: { tokensPerSec: 8 / 0.034, gflopsPerSec: 0, gbytesPerSec: 0 },
      repetitions: [1, 1, 100].map((m) => ({ status: 'ok', medianMs: m, medianCi95Ms: [m, m], count: 3, warmupCount: 0 })),
    },
  ];
  raw.schemaVersion = '1.2';
  const { integrity: _old, ...body } = raw;
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ ...body, integrity: integrityOf(body) }, null, 2));
  return path;
}

describe('a 1.2 file whose interval over processes went below zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-negative-'));

  it('is read, its median and interval recomputed from its samples on the log scale, with a note', () => {
    const [c] = readResultFile(negativeIntervalFile(dir)).cases;
    expect(c.status).toBe('noisy');
    if (c.status !== 'noisy') return;
    // geometric mean of 1, 1, 100 = 100^(1/3); lower bound exp(1.535057 − 6.604816), never below zero
    expect(c.summary.medianMs).toBeCloseTo(4.641589, 5);
    expect(c.summary.medianCi95Ms[0]).toBeCloseTo(0.006284, 5);
    expect(c.summary.medianCi95Ms[1]).toBeCloseTo(3428.48, 1);
    // 8 tokens a call in 4.641589 ms
    expect(c.throughput.tokensPerSec).toBeCloseTo(1723.55, 1);
    expect(c.error).toMatch(/interval recomputed on read: \[-108\.0, 176\.0\] ms was on a linear scale \(before schema 1\.3\)/);
  });

  it('moebench repair rewrites it in place, every sample kept, and resume, compare, merge and report read it', () => {
    const path = negativeIntervalFile(dir, 'r.json');
    const before = readFileSync(path, 'utf8');
    const r = moebench(['repair', path]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/r\.json: repaired 1 case\(s\)/);
    const after = JSON.parse(readFileSync(path, 'utf8'));
    expect(after.schemaVersion).toBe('1.8');
    expect(after.cases[0].samplesMs).toEqual(JSON.parse(before).cases[0].samplesMs);
    expect(after.cases[0].summary.medianCi95Ms[0]).toBeGreaterThan(0);
    // repaired once, it has nothing left to repair
    expect(moebench(['repair', path]).stdout).toMatch(/nothing to repair/);

    // resume reads it and splits the case back into its three processes
    const [c] = ResultSession.resume(path).cases;
    expect(splitRepetitions(c).map((p) => p.samplesMs)).toEqual([
      [1, 1, 1],
      [1, 1, 1],
      [100, 100, 100],
    ]);
    const copy = join(dir, 'r-copy.json');
    copyFileSync(path, copy);
    expect(moebench(['compare', path, copy, '--by', 'file']).status).toBe(0);
    expect(moebench(['merge', path, copy, '--out', join(dir, 'all.json')]).status).toBe(0);
    expect(moebench(['report', path, '--out', join(dir, 'r.html')]).status).toBe(0);
  });

  it('a file that cannot be repaired is named with its reason, exit 2', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"tool": "moebench", "schemaVersion": "1.2"');
    const r = moebench(['repair', path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/broken\.json: not valid JSON/);
  });
});
