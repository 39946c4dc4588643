import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResultFile, readResultFile, serializeResultFile, writeResultFileAtomic } from '../results/io.js';
import { ResultFileError } from '../errors.js';
import { integrityOf } from '../results/integrity.js';
import { loadRuns } from '../results/runs.js';
import { SCHEMA_MAJOR, SCHEMA_MINOR, SCHEMA_VERSION, type ResultFileBody } from '../results/schema.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'fake-run.json');

function body(): ResultFileBody {
  const { integrity: _i, ...rest } = readResultFile(FIXTURE);
  return rest;
}

describe('result files', () => {
  it('the fixture written by the harness validates', () => {
    const file = readResultFile(FIXTURE);
    expect(file.cases.length).toBeGreaterThan(0);
  });

  it('an older minor version is read: the fixture was written as 1.0, before summaries had lag1Autocorrelation', () => {
    const file = readResultFile(FIXTURE);
    expect(file.schemaVersion).toBe('1.0');
    expect(SCHEMA_VERSION).toBe('1.8');
    expect(file.cases[0].summary!.lag1Autocorrelation).toBeUndefined();
  });

  it('round-trip through serialize and parse unchanged', () => {
    const b = body();
    const parsed = parseResultFile(serializeResultFile(b));
    const { integrity: _i, ...rest } = parsed;
    expect(rest).toEqual({ ...b, schemaVersion: SCHEMA_VERSION });
  });

  it('are written atomically, leaving no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-results-'));
    const path = join(dir, 'r.json');
    writeResultFileAtomic(path, body());
    expect(readResultFile(path).cases.length).toBe(body().cases.length);
    expect(readFileSync(path, 'utf8').endsWith('}\n')).toBe(true);
  });

  it('malformed JSON is refused with a clear message', () => {
    expect(() => parseResultFile('{"tool": "moebench", ', 'x.json')).toThrow(/x.json: not valid JSON .* may be truncated/);
  });

  it('a truncated file is refused', () => {
    const text = serializeResultFile(body());
    expect(() => parseResultFile(text.slice(0, text.length / 2), 'half.json')).toThrow(/half.json: not valid JSON/);
  });

  it('an empty file is refused', () => {
    expect(() => parseResultFile('', 'e.json')).toThrow(/e.json: the file is empty/);
  });

  it('another tool’s JSON is refused', () => {
    expect(() => parseResultFile('{"results": []}', 'h.json')).toThrow(/not a moebench result file/);
  });

  it('an unknown major version is refused', () => {
    const data = JSON.parse(serializeResultFile(body()));
    data.schemaVersion = '2.0';
    expect(() => parseResultFile(JSON.stringify(data), 'v2.json')).toThrow(ResultFileError);
    expect(() => parseResultFile(JSON.stringify(data), 'v2.json')).toThrow(
      /schema version 2.0 is not supported: this moebench reads 1.x \(upgrade moebench\)/,
    );
  });

  it('a file missing required fields is refused with the field named', () => {
    const data = JSON.parse(serializeResultFile(body()));
    delete data.cases[0].work;
    data.integrity = integrityOf(data);
    expect(() => parseResultFile(JSON.stringify(data), 'm.json')).toThrow(/m.json: does not match result schema 1.8: cases.0.work/);
  });

  it('a hand-altered file fails the integrity check', () => {
    const data = JSON.parse(serializeResultFile(body()));
    data.cases[0].throughput.tokensPerSec *= 2;
    expect(() => parseResultFile(JSON.stringify(data), 'a.json')).toThrow(
      /a.json: integrity check failed: the file was changed after moebench wrote it/,
    );
  });

  it('a failed case carrying a throughput is refused', () => {
    const data = JSON.parse(serializeResultFile(body()));
    data.cases[0].status = 'failed';
    data.cases[0].error = 'x';
    data.integrity = integrityOf(data);
    expect(() => parseResultFile(JSON.stringify(data), 'f.json')).toThrow(/status failed must not carry a throughput/);
  });

  it('a newer minor version with extra fields is still read', () => {
    const data = JSON.parse(serializeResultFile(body()));
    // one minor version past this one
    data.schemaVersion = `${SCHEMA_MAJOR}.${SCHEMA_MINOR + 1}`;
    data.cases[0].futureField = { x: 1 };
    data.integrity = integrityOf(data);
    const file = parseResultFile(JSON.stringify(data), 'minor.json');
    expect(file.cases.length).toBe(body().cases.length);
  });

  it("an env --check report is passed by in a folder of results (a sitting's folder holds one), refused when named", () => {
    // the first H200 sitting's report, as env --check --out wrote it, beside a run
    const check = join(import.meta.dirname, '..', '..', 'results', '2026-12-04-h200-sitting', '2026-12-04T17-09Z-h200-check.json');
    const dir = mkdtempSync(join(tmpdir(), 'moebench-results-'));
    copyFileSync(FIXTURE, join(dir, 'run.json'));
    copyFileSync(check, join(dir, 'check.json'));
    const loaded = loadRuns([dir]);
    expect([loaded.runs.length, loaded.bad]).toEqual([1, []]);
    expect(() => loadRuns([join(dir, 'check.json')])).toThrow(
      /check\.json: is a moebench env --check report, not a result file: give result files or collections$/,
    );
  });

  it('a file read from disk that does not exist gives its path and reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-results-'));
    expect(() => readResultFile(join(dir, 'nope.json'))).toThrow(/nope.json: cannot read: no such file or folder$/);
    writeFileSync(join(dir, 'x.json'), 'null');
    expect(() => readResultFile(join(dir, 'x.json'))).toThrow(/expected a JSON object/);
    // the system's reasons in words, not errno codes
    expect(() => readResultFile(join(dir, 'x.json', 'y.json'))).toThrow(/y.json: cannot read: a part of its path is not a folder$/);
    expect(() => readResultFile(dir)).toThrow(/cannot read: is a folder, not a file$/);
  });
});
