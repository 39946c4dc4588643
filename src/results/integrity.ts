import { createHash } from 'node:crypto';
import type { ResultFileBody } from './schema.js';

/**
 * Canonical JSON (keys sorted, so the digest does not depend on key order), yielded piece by
 * piece: the digest of a multi-GB collection is fed to the hash as it goes, since one string of
 * it would pass V8's string limit (about 512 MB). The pieces join into the same text as before.
 */
function* canonical(value: unknown): Generator<string> {
  if (Array.isArray(value)) {
    // samples, the bulk of a file: an array of numbers is one piece
    if (value.every((v) => typeof v === 'number')) {
      yield `[${value.map((v) => JSON.stringify(v)).join(',')}]`;
      return;
    }
    yield '[';
    for (let i = 0; i < value.length; i++) {
      if (i) yield ',';
      yield* canonical(value[i]);
    }
    yield ']';
    return;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    yield '{';
    for (let i = 0; i < entries.length; i++) {
      yield `${i ? ',' : ''}${JSON.stringify(entries[i][0])}:`;
      yield* canonical(entries[i][1]);
    }
    yield '}';
    return;
  }
  yield JSON.stringify(value);
}

/** Strings shorter than this are gathered before hashing: one update per number would be slow. */
const BATCH_CHARS = 1 << 16;

export function integrityOf(body: ResultFileBody | Record<string, unknown>): string {
  const { integrity: _ignored, ...rest } = body as Record<string, unknown>;
  const hash = createHash('sha256');
  let batch = '';
  for (const piece of canonical(rest)) {
    batch += piece;
    if (batch.length >= BATCH_CHARS) {
      hash.update(batch);
      batch = '';
    }
  }
  hash.update(batch);
  return `sha256:${hash.digest('hex')}`;
}
