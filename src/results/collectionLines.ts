import { closeSync, openSync, readSync } from 'node:fs';
import { ResultFileError } from '../errors.js';

/**
 * Collections are written as JSON in a line layout: the header fields on the first line, then one
 * run per line, then one conflict per line. Any JSON reader reads it; moebench's own reader of a
 * file too big for one string (V8 caps a string near 512 MB: three 200 MB result files merged
 * died with "Invalid string length") parses it a line at a time, so only a run must fit in one.
 *
 *   {"tool":"moebench","kind":"collection",...,
 *   "runs":[
 *   {run},
 *   {run}
 *   ],"conflicts":[
 *   {conflict}
 *   ]}
 */
const RUNS_OPEN = '"runs":[';
const CONFLICTS_OPEN = '],"conflicts":[';
const CLOSE = ']}';

/** Files above this size are read a line at a time (well under the string limit, whatever the encoding). */
export const LINE_READ_BYTES = 256 * 1024 * 1024;

const encoder = new TextEncoder();

/** The collection's text in pieces of one run or conflict each; never one string of the whole. */
export function* collectionLines(head: Record<string, unknown>, runs: unknown[], conflicts: unknown[]): Generator<Uint8Array> {
  yield encoder.encode(`${JSON.stringify(head).slice(0, -1)},\n${RUNS_OPEN}\n`);
  for (let i = 0; i < runs.length; i++) yield encoder.encode(`${JSON.stringify(runs[i])}${i < runs.length - 1 ? ',' : ''}\n`);
  yield encoder.encode(`${CONFLICTS_OPEN}\n`);
  for (let i = 0; i < conflicts.length; i++) yield encoder.encode(`${JSON.stringify(conflicts[i])}${i < conflicts.length - 1 ? ',' : ''}\n`);
  yield encoder.encode(`${CLOSE}\n`);
}

/** The lines of a file as strings, read in chunks: no line but the one being read is held as bytes. */
function* linesOf(path: string): Generator<string> {
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
  let pending: Buffer[] = [];
  try {
    for (let n = readSync(fd, chunk, 0, chunk.length, null); n > 0; n = readSync(fd, chunk, 0, chunk.length, null)) {
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl >= 0 && nl < n; nl = chunk.indexOf(10, start)) {
        pending.push(Buffer.from(chunk.subarray(start, nl)));
        yield Buffer.concat(pending).toString('utf8');
        pending = [];
        start = nl + 1;
      }
      if (start < n) pending.push(Buffer.from(chunk.subarray(start, n)));
    }
    if (pending.length) yield Buffer.concat(pending).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** A file too big for one string, read in the line layout above; anything else is refused, saying why. */
export function readCollectionLines(path: string, sizeBytes: number): Record<string, unknown> {
  const tooBig = (why: string) =>
    new ResultFileError(
      path,
      `${(sizeBytes / 1024 ** 2).toFixed(0)} MB is more than one string can hold, and ${why}: only collections moebench merge wrote can be read at this size`,
    );
  const parse = (line: string, what: string) => {
    try {
      return JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line) as unknown;
    } catch (err) {
      throw tooBig(`its ${what} is not JSON (${(err as Error).message.slice(0, 80)}); the file may be truncated`);
    }
  };
  const lines = linesOf(path);
  const first = lines.next();
  const headText = first.done ? '' : first.value.replace(/^\ufeff/, '');
  if (!headText.startsWith('{') || !headText.endsWith(',')) throw tooBig('its first line is not the header of a collection');
  const head = parse(`${headText.slice(0, -1)}}`, 'header') as Record<string, unknown>;
  const runs: unknown[] = [];
  const conflicts: unknown[] = [];
  let into: unknown[] | undefined;
  let closed = false;
  for (const line of lines) {
    if (closed) {
      if (line.trim()) throw tooBig('it goes on after its end');
    } else if (line === RUNS_OPEN && into === undefined) into = runs;
    else if (line === CONFLICTS_OPEN && into === runs) into = conflicts;
    else if (line === CLOSE && into === conflicts) closed = true;
    else if (into) into.push(parse(line, into === runs ? `run ${runs.length + 1}` : `conflict ${conflicts.length + 1}`));
    else throw tooBig('its second line does not open its runs');
  }
  if (!closed) throw tooBig('it ends before its last line: the file may be truncated');
  return { ...head, runs, conflicts };
}
