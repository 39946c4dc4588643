import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseTable } from '../report/table.js';
import { fmt, formatTable, formatTableWithin, wrap } from '../text/table.js';
import { readResultFile } from '../results/io.js';

const FIX = join(import.meta.dirname, 'fixtures');
const NOTE =
  /±95% of (every case|\d+ case\(s\)) is the median's interval within one process: it cannot see how much the next process will differ; the default of three processes per case \(--repetitions 3\) puts that drift in the interval/;

describe('the run table says what its intervals cover', () => {
  const cases = readResultFile(join(FIX, 'fake-run.json')).cases;
  // the notes as written, before they were wrapped to the terminal
  const notesOf = (c: Parameters<typeof caseTable>[0]) => caseTable(c).replace(/\n {4}/g, ' ');

  it('cases measured in one process each are flagged', () => {
    expect(notesOf(cases)).toMatch(NOTE);
    expect(notesOf(cases).match(NOTE)![1]).toBe('every case');
  });

  it('cases measured in several processes are not', () => {
    const repeated = cases.map((c) => ({
      ...c,
      repetitions: [
        { status: c.status, medianMs: 1 },
        { status: c.status, medianMs: 1.01 },
      ],
    }));
    expect(notesOf(repeated)).not.toMatch(NOTE);
  });

  it('a mix names how many were single-process', () => {
    const [first, ...rest] = cases;
    const mixed = [
      first,
      ...rest.map((c) => ({
        ...c,
        repetitions: [
          { status: c.status, medianMs: 1 },
          { status: c.status, medianMs: 1.01 },
        ],
      })),
    ];
    expect(notesOf(mixed).match(NOTE)![1]).toBe('1 case(s)');
  });
});

describe('the run table fits a 120-column terminal', () => {
  // real runs written by the harness: the H200 sitting's default suite on tfjs-webgpu (overhead and
  // roofline columns), and the development VM's every engine (a backend column, skipped cases)
  const RESULTS = join(import.meta.dirname, '..', '..', 'results');
  const h200 = readResultFile(join(RESULTS, '2026-12-04T17-15Z-h200-default-tfjs-webgpu.json')).cases;
  const engines = readResultFile(join(RESULTS, '2026-11-24T14-09Z-vm-engines-all-available.json')).cases;
  const header = (text: string) =>
    text
      .split('\n')[0]
      .trim()
      .split(/\s{2,}/);

  it('the figures least read are left out, first overhead, and a note names them', () => {
    const full = header(
      caseTable(h200, {}, 'markdown')
        .replace(/^\| | \|$/gm, '')
        .replace(/ \| /g, '  '),
    );
    expect(full).toEqual(['case', 'status', 'tokens/s', 'median ms', '±95%', 'spread', 'overhead', 'GFLOP/s', 'GB/s', 'roofline']);
    const text = caseTable(h200);
    expect(header(text)).toEqual(['case', 'status', 'tokens/s', 'median ms', '±95%', 'spread', 'GFLOP/s', 'GB/s', 'roofline']);
    expect(text.split('\n').filter((l) => l.length > 120)).toEqual([]);
    expect(text).toContain('\n  left out to fit 120 columns: overhead (every column: --format markdown or csv, here or in moebench show FILE)');
  });

  it('a table that fits keeps every column and says nothing of it', () => {
    const text = caseTable(readResultFile(join(FIX, 'fake-run.json')).cases);
    expect(text).not.toContain('left out');
  });

  it('cases skipped before their check do not keep the rel err column: every output checked matched', () => {
    expect(engines.filter((c) => c.status === 'skipped').length).toBeGreaterThan(0);
    const text = caseTable(engines);
    expect(header(text)).not.toContain('rel err');
    expect(text).toMatch(/^ {2}every output matched the float64 reference \(relative L2 error at most 1\.3e-6\)$/m);
    // notes are wrapped too: "not supported by tfjs-cpu: …" ran to 160 columns
    expect(text.split('\n').filter((l) => l.length > 120)).toEqual([]);
    expect(text).toMatch(/^ {2}small\/dense\/prefill\/t256\/fp32: not supported by tfjs-cpu: .*\n {4}\S/m);
  });
});

describe('numbers and lines as a terminal shows them', () => {
  it('fmt: thousands separated, no trailing zeros, exponents only at the extremes', () => {
    expect(fmt(17_604, 4)).toBe('17,600');
    expect(fmt(1050, 3)).toBe('1,050');
    expect(fmt(512, 4)).toBe('512');
    expect(fmt(8, 4)).toBe('8');
    expect(fmt(0.5, 4)).toBe('0.5');
    expect(fmt(1234.5, 4)).toBe('1,235');
    expect(fmt(-20_000, 3)).toBe('-20,000');
    expect(fmt(3.14159, 3)).toBe('3.14');
    expect(fmt(1e-4, 3)).toBe('1.00e-4');
    expect(fmt(2e12, 3)).toBe('2.00e+12');
    expect(fmt(undefined)).toBe('-');
  });

  it('formatTableWithin: a step of columns at a time until the table fits; a step naming no column is passed over', () => {
    const rows = [
      ['a', 'bb', 'c'],
      ['aaaa', 'b', 'cccc'],
    ];
    // "aaaa  b   cccc": 14 columns; without c, "aaaa  b": 7; without b too, "aaaa": 4
    expect(formatTableWithin(rows, [false, false, false], [['x'], ['c'], ['bb']], 20)).toEqual({ text: formatTable(rows), leftOut: [] });
    expect(formatTableWithin(rows, [false, false, false], [['x'], ['c'], ['bb']], 10)).toEqual({
      text: 'a     bb\n----  --\naaaa  b',
      leftOut: ['c'],
    });
    expect(formatTableWithin(rows, [false, false, false], [['c', 'bb']], 3)).toEqual({ text: 'a\n----\naaaa', leftOut: ['c', 'bb'] });
  });

  it('wrap: at spaces within the width, the first line keeps its indentation, a long word stays whole', () => {
    expect(wrap('aaa bbb ccc', 7)).toEqual(['aaa bbb', '  ccc']);
    expect(wrap('  x: aa bb', 8, '    ')).toEqual(['  x: aa', '    bb']);
    expect(wrap('abcdefghij k', 5)).toEqual(['abcdefghij', '  k']);
    expect(wrap('short', 120)).toEqual(['short']);
    // compare's "label  (source)": broken at the double space, no space is left at the line's end
    expect(wrap('side one  (/a/long/path.json)', 12)).toEqual(['side one', '  (/a/long/path.json)']);
  });
});
