import { TERMINAL_COLUMNS, formatTableWithin, wrap } from '../text/table.js';

/** One task's line of `moebench slurm status`. */
export interface TaskRow {
  task: string;
  array: string;
  state: string;
  node: string;
  cases: number;
  why?: string;
}

/**
 * The tasks' table, with each task's why in its column while the table fits a terminal; a longer
 * why (a failed task's last line of its log runs to 200 columns) is wrapped under the table by
 * task instead, so one failure does not widen every row. Pure.
 */
export function taskTable(rows: TaskRow[], width = TERMINAL_COLUMNS): string {
  const { text, leftOut } = formatTableWithin(
    [['task', 'array', 'state', 'node', 'cases', 'why'], ...rows.map((r) => [r.task, r.array, r.state, r.node, String(r.cases), r.why ?? ''])],
    [],
    [['why']],
    width,
  );
  if (!leftOut.length) return text;
  return `${text}\n\nwhy:\n${rows.flatMap((r) => (r.why ? wrap(`  ${r.task}: ${r.why}`, width, '    ') : [])).join('\n')}`;
}
