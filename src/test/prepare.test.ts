import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResultFile } from '../results/io.js';
import { moebench, ROOT } from './helpers/cli.js';

describe('bench/prepare.ts: a suite’s models, weights and references ahead of its processes', () => {
  it('builds what the run then reads unchanged, one shard per process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-prepare-'));
    const suite = join(dir, 'suite.json');
    writeFileSync(
      suite,
      JSON.stringify({
        name: 'prepare-test',
        description: 'two tiny cases',
        cases: [
          { preset: 'tiny', layer: 'dense', phase: 'decode', tokens: 4 },
          { preset: 'tiny', layer: 'moe', phase: 'prefill', tokens: 16, moeImpl: 'routed' },
        ],
      }),
    );
    const models = join(dir, 'models');
    for (const shard of ['0/2', '1/2']) {
      const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', 'prepare.js'), '--suite', suite, '--model-dir', models, '--shard', shard], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      // one case each: dense to shard 0, MoE to shard 1
      expect(r.stderr).toMatch(new RegExp(`^prepared tiny/${shard === '0/2' ? 'dense' : 'moe'}/\\S+ in \\d+\\.\\d s\\n$`));
    }
    const files = readdirSync(models);
    // two references, two ONNX models, two peer weight folders, with their hash sidecars
    expect(files.filter((f) => /^reference-.*\.f64$/.test(f))).toHaveLength(2);
    expect(files.filter((f) => /^tiny-.*\.onnx$/.test(f))).toHaveLength(2);
    expect(files.filter((f) => /^peer-tiny-/.test(f))).toHaveLength(2);
    const stamp = () =>
      files
        .flatMap((f) => (f.startsWith('peer-') ? readdirSync(join(models, f)).map((g) => join(f, g)) : [f]))
        .map((f) => [f, statSync(join(models, f)).mtimeMs]);
    const before = stamp();
    for (const backend of ['ort-cpu', 'numpy']) {
      const out = join(dir, `${backend}.json`);
      const r = moebench([
        'run',
        '--suite',
        suite,
        '--backend',
        backend,
        '--repetitions',
        '1',
        '--max-time-ms',
        '100',
        '--model-dir',
        models,
        '--out',
        out,
      ]);
      expect(r.status, r.stderr).toBe(0);
      expect(readResultFile(out).cases.map((c) => c.status)).not.toContain('invalid');
    }
    // nothing rebuilt: every file the runs read is the one prepare wrote
    expect(stamp()).toEqual(before);
  });
});
