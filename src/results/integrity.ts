import { createHash } from 'node:crypto';
import type { ResultFileBody } from './schema.js';

/** Canonical JSON: keys sorted, so the digest does not depend on key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function integrityOf(body: ResultFileBody | Record<string, unknown>): string {
  const { integrity: _ignored, ...rest } = body as Record<string, unknown>;
  return `sha256:${createHash('sha256').update(canonical(rest)).digest('hex')}`;
}
