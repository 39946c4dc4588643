import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseTable } from '../report/table.js';
import { fmt, wrap } from '../text/table.js';
import { readResultFile } from '../results/io.js';

const FIX = join(import.meta.dirname, 'fixtures');
const NOTE =
  /±95% of (every case|\d+ case\(s\)) is the median's interval within one process: it cannot see how much the next process will differ; the default of three processes per case \(--repetitions 3\) puts that drift in the interval/;

describe('the run table says what its intervals cover', () => {
  const cases = readResultFile(join(FIX, 'fake-run.json')).cases;

  it('cases measured in one process each are flagged', () => {
    expect(caseTable(cases)).toMatch(NOTE);
    expect(caseTable(cases).match(NOTE)![1]).toBe('every case');
  });

  it('cases measured in several processes are not', () => {
    const repeated = cases.map((c) => ({
      ...c,
      repetitions: [
        { status: c.status, medianMs: 1 },
        { status: c.status, medianMs: 1.01 },
      ],
    }));
    expect(caseTable(repeated)).not.toMatch(NOTE);
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
    expect(caseTable(mixed).match(NOTE)![1]).toBe('1 case(s)');
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

  it('wrap: at spaces within the width, the first line keeps its indentation, a long word stays whole', () => {
    expect(wrap('aaa bbb ccc', 7)).toEqual(['aaa bbb', '  ccc']);
    expect(wrap('  x: aa bb', 8, '    ')).toEqual(['  x: aa', '    bb']);
    expect(wrap('abcdefghij k', 5)).toEqual(['abcdefghij', '  k']);
    expect(wrap('short', 120)).toEqual(['short']);
  });
});
