import { measured } from './helpers/cases.js';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAnyFile, readResultFile, serializeResultFile } from '../results/io.js';
import { mergeRuns, onceEach } from '../results/merge.js';
import { loadRuns } from '../results/runs.js';
import { moebench } from './helpers/cli.js';

const FIX = join(import.meta.dirname, 'fixtures');
const BASE = join(FIX, 'compare-base.json');
const CAND = join(FIX, 'compare-cand.json');

function hosts() {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-merge-'));
  for (const h of ['host-a', 'host-b', 'backup']) mkdirSync(join(dir, h));
  copyFileSync(BASE, join(dir, 'host-a', 'run.json'));
  copyFileSync(CAND, join(dir, 'host-b', 'run.json'));
  copyFileSync(BASE, join(dir, 'backup', 'run-copy.json'));
  return dir;
}

describe('moebench merge', () => {
  it('folds a folder of hosts into one collection, keeping one copy of duplicates', () => {
    const dir = hosts();
    const out = join(dir, 'all.json');
    const r = moebench(['merge', dir, '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/2 run\(s\), 10 case\(s\), 5 exact duplicate\(s\) folded, 0 conflict\(s\)/);
    const file = parseAnyFile(readFileSync(out, 'utf8'), out);
    expect(file.kind).toBe('collection');
  });

  it('a same-key case with different content is a reported conflict, not dropped', () => {
    const dir = hosts();
    const body = readResultFile(BASE);
    const { integrity: _i, ...rest } = body;
    const changed = {
      ...rest,
      cases: rest.cases.map((c, i) => (i === 0 ? { ...measured(c), samplesMs: measured(c).samplesMs.map((s) => s + 1) } : c)),
    };
    writeFileSync(join(dir, 'backup', 'run-copy.json'), serializeResultFile(changed));
    const out = join(dir, 'all.json');
    const r = moebench(['merge', dir, '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/conflict: .*tiny\/dense\/decode\/t1\/fp32 .*: kept .*backup\/run-copy.json, differs in .*host-a\/run.json/);
    const file = parseAnyFile(readFileSync(out, 'utf8'), out);
    if (file.kind !== 'collection') throw new Error('expected a collection');
    expect(file.file.conflicts).toHaveLength(1);
    expect(file.file.conflicts[0].otherCase.id).toBe('tiny/dense/decode/t1/fp32');
  });

  it('a conflict survives later merges: merge a b-modified → c1, merge c1 → c3, merge c1 b-modified → c4', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-merge-'));
    const a = join(dir, 'a.json');
    const modified = join(dir, 'b-modified.json');
    copyFileSync(BASE, a);
    const { integrity: _i, ...rest } = readResultFile(BASE);
    writeFileSync(
      modified,
      serializeResultFile({
        ...rest,
        cases: rest.cases.map((c, i) => (i === 0 ? { ...measured(c), samplesMs: measured(c).samplesMs.map((s) => s + 1) } : c)),
      }),
    );
    const conflictsOf = (path: string) => {
      const file = parseAnyFile(readFileSync(path, 'utf8'), path);
      if (file.kind !== 'collection') throw new Error('expected a collection');
      return file.file.conflicts;
    };
    const c1 = join(dir, 'c1.json');
    expect(moebench(['merge', a, modified, '--out', c1]).status).toBe(1);
    expect(conflictsOf(c1)).toHaveLength(1);

    const c3 = join(dir, 'c3.json');
    const again = moebench(['merge', c1, '--out', c3]);
    expect(again.status).toBe(1);
    expect(again.stdout).toMatch(/1 conflict\(s\) \(1 carried from earlier merges\)/);
    expect(conflictsOf(c3)).toEqual(conflictsOf(c1));

    // the conflicting file met again is the same conflict, not a second one
    const c4 = join(dir, 'c4.json');
    expect(moebench(['merge', c1, modified, '--out', c4]).status).toBe(1);
    expect(conflictsOf(c4)).toHaveLength(1);

    // and every reader of the collection says the conflict is there
    const compared = moebench(['compare', c3, CAND]);
    expect(compared.stderr).toMatch(
      /1 conflict\(s\) recorded by earlier merges \(.*tiny\/dense\/decode\/t1\/fp32.*\): the first measurement of each is the one used/,
    );
  });

  it('compare reads a collection like the files it came from', () => {
    const dir = hosts();
    const out = join(dir, 'all.json');
    moebench(['merge', dir, '--out', out]);
    const viaCollection = moebench(['compare', out, '--format', 'json']);
    const viaFiles = moebench(['compare', BASE, CAND, '--format', 'json']);
    expect(JSON.parse(viaCollection.stdout).pairs.map((p: { verdict: string }) => p.verdict)).toEqual(
      JSON.parse(viaFiles.stdout).pairs.map((p: { verdict: string }) => p.verdict),
    );
  });

  it('a hand-altered collection is refused', () => {
    const dir = hosts();
    const out = join(dir, 'all.json');
    moebench(['merge', dir, '--out', out]);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('"duplicates":5');
    writeFileSync(out, text.replace('"duplicates":5', '"duplicates":0'));
    const r = moebench(['compare', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/integrity check failed/);
  });

  it('the key is host, card, case and start time', () => {
    const runs = loadRuns([BASE, BASE]).runs;
    const merged = mergeRuns(runs);
    expect(merged.duplicates).toBe(5);
    expect(merged.runs).toHaveLength(1);
    const later = { ...runs[1], cases: runs[1].cases.map((c) => ({ ...c, startedAt: '2030-01-01T00:00:00.000Z' })) };
    expect(mergeRuns([runs[0], later]).runs.reduce((a, r) => a + r.cases.length, 0)).toBe(10);
  });

  it('and the Slurm task: two tasks of an array on one node that start a CPU case in the same millisecond are two runs, not a conflict', () => {
    const [base] = loadRuns([BASE]).runs;
    // as CI saw it: the same host, no card, the same case start, measured apart (other samples)
    const task = (arrayTaskId: string, jobId: string, shift: number) => ({
      ...base,
      environment: { ...base.environment, slurm: { jobId, arrayJobId: '1', arrayTaskId, partition: 'moebench' } },
      cases: base.cases.map((c) => ({ ...measured(c), samplesMs: measured(c).samplesMs.map((s) => s + shift) })),
    });
    const merged = mergeRuns([task('0', '3', 0), task('1', '1', 0.001)]);
    expect(merged.conflicts).toEqual([]);
    expect(merged.runs).toHaveLength(2);
    // one task's file met twice (a requeued task's resumed copy beside the first) is still one run
    const again = mergeRuns([task('0', '3', 0), task('0', '3', 0)]);
    expect([again.runs.length, again.duplicates, again.conflicts.length]).toEqual([1, 5, 0]);
    // outside Slurm the same collision is the conflict it always was: nothing tells the two apart
    const bare = (r: ReturnType<typeof task>) => ({ ...r, environment: { ...r.environment, slurm: undefined } });
    const outside = mergeRuns([bare(task('0', '3', 0)), bare(task('1', '1', 0.001))]);
    expect([outside.runs.length, outside.conflicts.length]).toEqual([1, 5]);
  });
});

describe('each measurement once (onceEach): a run met twice in what a command reads', () => {
  it('leaves out the cases an earlier run gave, keeps the rest of a partly repeated run, and counts what it left out', () => {
    const [base] = loadRuns([BASE]).runs;
    const [cand] = loadRuns([CAND]).runs;
    expect(base.cases).toHaveLength(5);
    // the first two of base's cases, then all of base (as a collection beside one of its files), then cand
    const firstTwo = { ...base, cases: base.cases.slice(0, 2) };
    const once = onceEach([firstTwo, base, cand]);
    expect(once.repeated).toBe(2);
    expect(once.runs.map((r) => r.cases.length)).toEqual([2, 3, 5]);
    expect(once.runs[1].cases.map((c) => c.id)).toEqual(base.cases.slice(2).map((c) => c.id));
    // a run given twice whole is dropped the second time
    expect(onceEach([base, base]).runs).toHaveLength(1);
    expect(onceEach([base, base]).repeated).toBe(5);
    // within a scope only: on two sides a run and its copy are each kept
    let n = 0;
    const sides = onceEach([base, base], () => String(n++ < 5));
    expect([sides.runs.length, sides.repeated]).toEqual([2, 0]);
  });

  it('report of a file beside a collection holding it shows each measurement once and says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-merge-'));
    copyFileSync(BASE, join(dir, 'run.json'));
    expect(moebench(['merge', join(dir, 'run.json'), '--out', join(dir, 'collection.json')]).status).toBe(0);
    const r = moebench(['report', dir, '--out', join(mkdtempSync(join(tmpdir(), 'moebench-merge-report-')), 'report.html')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: 1 run\(s\), 5 case\(s\)\n$/);
    expect(r.stderr).toContain(
      "moebench: 5 measurement(s) given more than once (a run's file and a collection holding it, or a copy) are shown once",
    );
  });
});
