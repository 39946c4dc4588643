import { statSync, writeFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LINE_READ_BYTES } from '../results/collectionLines.js';
import { readAnyFile, readResultFile, serializeResultFile } from '../results/io.js';
import { measured } from './helpers/cases.js';
import { moebench } from './helpers/cli.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'fake-run.json');
const MB = 1024 ** 2;

describe('collections bigger than one string', () => {
  it('merging three 200 MB result files writes a collection that every reader reads back, every sample kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-big-'));
    // 600 MB of files: gone with the test, so repeated runs do not fill the disk
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const { integrity: _i, ...body } = readResultFile(FIXTURE);
    const template = measured(body.cases[0]);
    const CASES = 10;
    const SAMPLES = 700_000;
    const files = [0, 1, 2].map((h) => {
      const cases = Array.from({ length: CASES }, (_, k) => ({
        ...template,
        id: `${template.id}/copy${k}`,
        // distinct, full-precision values: the size a long real run gives
        samplesMs: Array.from({ length: SAMPLES }, (_, j) => 1 + (((h * CASES + k) * SAMPLES + j) % 9973) / 9973.123456789),
      }));
      const path = join(dir, `host-${h}.json`);
      writeFileSync(path, serializeResultFile({ ...body, environment: { ...body.environment, host: `host-${h}` }, cases }));
      return path;
    });
    for (const f of files) expect(statSync(f).size).toBeGreaterThan(180 * MB);

    const out = join(dir, 'all.json');
    const r = moebench(['merge', ...files, '--out', out], {}, 280_000);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 run\(s\), 30 case\(s\), 0 exact duplicate\(s\) folded, 0 conflict\(s\)/);
    // read a run at a time: bigger than the size read as one string
    expect(statSync(out).size).toBeGreaterThan(LINE_READ_BYTES);
    const read = readAnyFile(out);
    if (read.kind !== 'collection') throw new Error('expected a collection');
    expect(read.file.runs.map((run) => run.environment.host)).toEqual(['host-0', 'host-1', 'host-2']);
    const counts = read.file.runs.flatMap((run) => run.cases.map((c) => c.samplesMs?.length));
    expect(counts).toEqual(Array.from({ length: 3 * CASES }, () => SAMPLES));
    // a damaged byte anywhere is still caught by the digest
    const bytes = readFileSync(out);
    const at = bytes.indexOf('copy5');
    bytes[at + 4] = '6'.charCodeAt(0);
    writeFileSync(out, bytes);
    expect(() => readAnyFile(out)).toThrow(/integrity check failed/);
  }, 300_000);
});
