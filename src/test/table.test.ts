import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseTable } from '../report/table.js';
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
