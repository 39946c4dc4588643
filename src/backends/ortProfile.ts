/** Time per operator type, summarised from ORT's profiler trace (Chrome trace JSON). */
export interface OpTypeTime {
  opType: string;
  /** Kernel calls per layer call. */
  callsPerRun: number;
  /** Mean kernel time per layer call, µs. */
  usPerRun: number;
  /** Share of all kernel time. */
  fraction: number;
}

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

export function summarizeOrtProfile(events: TraceEvent[], runs: number): OpTypeTime[] {
  const byType = new Map<string, { calls: number; us: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const t = byType.get(e.args.op_name) ?? { calls: 0, us: 0 };
    t.calls++;
    t.us += e.dur ?? 0;
    byType.set(e.args.op_name, t);
  }
  const total = [...byType.values()].reduce((a, t) => a + t.us, 0);
  return [...byType.entries()]
    .map(([opType, t]) => ({ opType, callsPerRun: t.calls / runs, usPerRun: t.us / runs, fraction: total > 0 ? t.us / total : 0 }))
    .sort((a, b) => b.usPerRun - a.usPerRun);
}
