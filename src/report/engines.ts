import type { CaseResult } from '../results/schema.js';
import { fmt, formatTable } from '../text/table.js';

export interface EngineRow {
  id: string;
  /** tokens/sec by backend; absent where the backend did not measure the case. */
  tokensPerSec: Record<string, number | undefined>;
  fastest?: string;
}

/** One row per workload, one column per backend: the same case on every engine. Pure. */
export function engineRows(cases: readonly CaseResult[]): { backends: string[]; rows: EngineRow[] } {
  const backends = [...new Set(cases.map((c) => c.backend))];
  const ids = [...new Set(cases.map((c) => c.id))];
  // the first case of each id and backend, indexed once rather than searched for each cell
  const first = new Map<string, CaseResult>();
  for (const c of cases) if (!first.has(`${c.backend}\u0000${c.id}`)) first.set(`${c.backend}\u0000${c.id}`, c);
  const rows = ids.map((id) => {
    const tokensPerSec: Record<string, number | undefined> = {};
    for (const b of backends) tokensPerSec[b] = first.get(`${b}\u0000${id}`)?.throughput?.tokensPerSec;
    const measured = Object.entries(tokensPerSec).filter(([, v]) => v !== undefined) as [string, number][];
    const fastest = measured.sort((a, b) => b[1] - a[1])[0]?.[0];
    return { id, tokensPerSec, fastest };
  });
  return { backends, rows };
}

/** tokens/sec per engine with the ratio to the fastest engine for that case. */
export function engineTable(cases: readonly CaseResult[]): string {
  const { backends, rows } = engineRows(cases);
  const header = ['case', ...backends];
  const body = rows.map((r) => {
    const best = r.fastest ? r.tokensPerSec[r.fastest]! : undefined;
    return [
      r.id,
      ...backends.map((b) => {
        const v = r.tokensPerSec[b];
        return v === undefined || best === undefined ? '-' : `${fmt(v, 4)} (${(v / best).toFixed(2)})`;
      }),
    ];
  });
  return formatTable([header, ...body], [false, ...backends.map(() => true)]);
}
