import { TERMINAL_COLUMNS, formatTable, wrap } from '../text/table.js';

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
  const cells = rows.map((r) => [r.task, r.array, r.state, r.node, String(r.cases)]);
  const head = ['task', 'array', 'state', 'node', 'cases'];
  const withWhy = formatTable([[...head, 'why'], ...cells.map((c, i) => [...c, rows[i].why ?? ''])]);
  if (withWhy.split('\n').every((line) => line.length <= width)) return withWhy;
  const whys = rows.filter((r) => r.why).flatMap((r) => wrap(`  ${r.task}: ${r.why}`, width, '    '));
  return `${formatTable([head, ...cells])}\n\nwhy:\n${whys.join('\n')}`;
}
