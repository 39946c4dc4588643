import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResultFile, readResultFile } from '../results/io.js';
import { defaultResultPath } from '../run/schedule.js';
import { CLI, moebench } from './helpers/cli.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'fake-run.json');
const fake = (script: object) => ({ MOEBENCH_FAKE_SCRIPT: JSON.stringify(script) });
const ONE = ['run', '--backend', 'fake', '--preset', 'tiny', '--layer', 'dense', '--phase', 'decode', '--tokens', '4', '--repetitions', '1'];
const tmp = () => mkdtempSync(join(tmpdir(), 'moebench-lost-'));

describe('a new run never overwrites a file', () => {
  it("moebench run --out notes.json, someone's existing non-result file: refused, the file untouched", () => {
    const out = join(tmp(), 'notes.json');
    writeFileSync(out, '{"my": "notes"}\n');
    const r = moebench([...ONE, '--out', out], fake({ latenciesMs: [1] }));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/notes\.json already exists: a new run never overwrites a file; continue it with --resume .*--force/);
    expect(readFileSync(out, 'utf8')).toBe('{"my": "notes"}\n');
  });

  it('--out victim.json, an existing result file: refused; with --force it is kept as victim.json.bak', () => {
    const dir = tmp();
    const out = join(dir, 'victim.json');
    copyFileSync(FIXTURE, out);
    const before = readFileSync(out, 'utf8');
    expect(moebench([...ONE, '--out', out], fake({ latenciesMs: [1] })).status).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe(before);
    const forced = moebench([...ONE, '--out', out, '--force'], fake({ latenciesMs: [1] }));
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/--force: moved the existing .*victim\.json to .*victim\.json\.bak/);
    expect(readFileSync(join(dir, 'victim.json.bak'), 'utf8')).toBe(before);
    expect(readResultFile(out).cases).toHaveLength(1);
  });

  it('two runs started in the same second without --out write two files', async () => {
    const dir = tmp();
    const start = () =>
      new Promise<number | null>((resolve) => {
        // in the folder given, so both default to its results/
        const child = spawn(process.execPath, [CLI, ...ONE, '--model-dir', join(dir, 'models')], {
          cwd: dir,
          env: { ...process.env, ...fake({ latenciesMs: [1] }) },
          stdio: 'ignore',
        });
        child.on('exit', resolve);
      });
    expect(await Promise.all([start(), start()])).toEqual([0, 0]);
    const files = readdirSync(join(dir, 'results')).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(2);
    for (const f of files) expect(readResultFile(join(dir, 'results', f)).cases).toHaveLength(1);
    // the same millisecond on one host: the process id tells them apart
    const now = new Date('2026-11-24T02:00:00.123Z');
    expect(defaultResultPath('results', 'fake', 'cpu', now, 41)).not.toBe(defaultResultPath('results', 'fake', 'cpu', now, 42));
    expect(defaultResultPath('results', 'fake', 'cpu', now, 41)).toMatch(/2026-11-24T02-00-00\.123Z-.*-fake-41\.json$/);
  });

  it('report r.json --out r.json and merge r.json --out r.json are refused, r.json untouched', () => {
    const dir = tmp();
    const r = join(dir, 'r.json');
    copyFileSync(FIXTURE, r);
    const before = readFileSync(r, 'utf8');
    const report = moebench(['report', r, '--out', r]);
    expect(report.status).toBe(2);
    expect(report.stderr).toMatch(/--out .*r\.json is one of the report's inputs/);
    const merge = moebench(['merge', dir, '--out', r]);
    expect(merge.status).toBe(2);
    expect(merge.stderr).toMatch(/--out .*r\.json is one of the merge's inputs/);
    expect(readFileSync(r, 'utf8')).toBe(before);
  });
});

describe('SIGHUP (a closed terminal or ssh session) is an interrupt like SIGINT', () => {
  it('leaves a valid file with the finished cases and names the --resume command', async () => {
    const out = join(tmp(), 'r.json');
    const child = spawn(
      process.execPath,
      [CLI, 'run', '--backend', 'fake', '--preset', 'tiny', '--tokens', '4', '--min-time-ms', '5', '--repetitions', '1', '--out', out],
      { env: { ...process.env, ...fake({ latenciesMs: [1], hangCases: ['dense/prefill'] }) }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (existsSync(out) && readResultFile(out).cases.length === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGHUP');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(129);
    expect(stderr).toMatch(/continue with: moebench run --resume .*r\.json/);
    expect(parseResultFile(readFileSync(out, 'utf8'), out).cases).toHaveLength(2);
  });
});

describe('readers and odd bytes', () => {
  it('a result file that starts with a UTF-8 byte-order mark is read', () => {
    const path = join(tmp(), 'bom.json');
    writeFileSync(path, `\ufeff${readFileSync(FIXTURE, 'utf8')}`);
    expect(readResultFile(path).cases.length).toBeGreaterThan(0);
  });

  it('a binary file is described, its bytes never echoed', () => {
    const path = join(tmp(), 'model.json');
    writeFileSync(path, Buffer.from([0x08, 0x07, 0x12, 0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 0x00, 0x9c]));
    const r = moebench(['compare', path, path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/model\.json: not a moebench result file: binary data, not JSON text/);
    expect(r.stderr).not.toContain('\u001b[2J');
  });
});

describe('options that would have been read wrongly are refused by name', () => {
  it.each([
    [['--repetitions', '3', '--repetitions', '1'], /--repetitions was given 2 times \(3, 1\): give it once/],
    [['--max-time-ms', '300', '--max-time-ms', '1'], /--max-time-ms was given 2 times \(300, 1\): give it once/],
    [['--repetitions', '1,3'], /--repetitions takes one value, got "1,3"/],
    [['--experts', '4,16'], /--experts takes one value, got "4,16"/],
    [['--seed', '1.5'], /--seed must be a whole number of at most 2\^53, got "1.5"/],
    [['--seed', 'abc'], /--seed must be a whole number/],
    [['--seed', '1e20'], /--seed must be a whole number/],
    [['--min-samples', '0.5'], /--min-samples must be positive integers, got "0.5"/],
  ])('run --preset tiny %j', (args, message) => {
    const r = moebench(['run', '--preset', 'tiny', '--backend', 'fake', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('compare --alpha 2 is refused', () => {
    const r = moebench(['compare', FIXTURE, FIXTURE, '--alpha', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--alpha must be between 0 and 1 \(exclusive\), got "2"/);
  });
});
