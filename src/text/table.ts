/** Fixed-width text table; the first row is the header. */
export function formatTable(rows: string[][], rightAligned: boolean[] = []): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/**
 * A number to `digits` significant figures as people read them: thousands separated (17,600, not
 * 1.760e+4), no trailing zeros (512, not 512.0); exponent notation only below 0.001 or from 10^12.
 */
export function fmt(x: number | undefined, digits = 3): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1e12 || abs < 1e-3) return x.toExponential(digits - 1);
  const rounded = Number(abs.toPrecision(digits));
  const text = rounded >= 1000 ? String(Math.round(rounded)).replace(/\B(?=(\d{3})+$)/g, ',') : String(rounded);
  return x < 0 ? `-${text}` : text;
}

/** The terminal every table and message is laid out for: 120 columns. */
export const TERMINAL_COLUMNS = 120;

/**
 * formatTable within a terminal: while the table is wider than `width`, the columns of the next of
 * `leaveOut`'s steps (named by their heads, the first row) go, until it fits or no step is left.
 * The text, and the columns left out for a note to name.
 */
export function formatTableWithin(
  rows: string[][],
  rightAligned: boolean[],
  leaveOut: readonly (readonly string[])[],
  width = TERMINAL_COLUMNS,
): { text: string; leftOut: string[] } {
  const without = (drop: string[]) => {
    const keep = rows[0].map((head) => !drop.includes(head));
    return formatTable(
      rows.map((r) => r.filter((_, i) => keep[i])),
      rightAligned.filter((_, i) => keep[i]),
    );
  };
  const fits = (text: string) => text.split('\n').every((line) => line.length <= width);
  let leftOut: string[] = [];
  let text = without(leftOut);
  for (const step of leaveOut) {
    if (fits(text)) break;
    const present = step.filter((head) => rows[0].includes(head));
    if (!present.length) continue;
    leftOut = [...leftOut, ...present];
    text = without(leftOut);
  }
  return { text, leftOut };
}

/**
 * Text broken at spaces into lines of at most `width` columns (a longer word stays whole), its own
 * leading indentation kept on the first line and `indent` on the others.
 */
export function wrap(text: string, width = TERMINAL_COLUMNS, indent = '  '): string[] {
  const lead = /^ */.exec(text)![0];
  const lines: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    const empty = line.trim() === '';
    const next = empty ? line + word : `${line} ${word}`;
    if (!empty && next.length > width) {
      // a break at a double space ("label  (source)") leaves no space at the line's end
      lines.push(line.trimEnd());
      line = indent + word;
    } else line = next;
  }
  return [...lines, line];
}
