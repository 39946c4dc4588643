import type { SlurmTask } from '../results/schema.js';

/** One array task as `scontrol show job -o` still describes it (Slurm forgets ended jobs after MinJobAge, 5 min by default). */
export interface SlurmRecord {
  arrayJobId: string;
  taskId: number;
  state: string;
  reason?: string;
  exitCode?: string;
  node?: string;
  /** how many times Slurm has started the task again (a requeue) */
  restarts?: number;
}

/** `scontrol show job -o ID` output (one job per line, Key=Value words) → its array tasks. */
export function parseScontrolJobs(text: string): SlurmRecord[] {
  const records: SlurmRecord[] = [];
  for (const line of text.split('\n')) {
    const fields = new Map<string, string>();
    for (const m of line.matchAll(/(?:^|\s)(\w+)=(\S*)/g)) if (!fields.has(m[1])) fields.set(m[1], m[2]);
    const array = fields.get('ArrayJobId');
    const task = fields.get('ArrayTaskId');
    const state = fields.get('JobState');
    // a pending array's record names its remaining tasks as a range (0-3): one record each
    if (!array || task === undefined || !state) continue;
    const reason = fields.get('Reason');
    const node = fields.get('NodeList');
    for (const id of taskIds(task))
      records.push({
        arrayJobId: array,
        taskId: id,
        state,
        ...(reason && reason !== 'None' ? { reason } : {}),
        ...(fields.get('ExitCode') ? { exitCode: fields.get('ExitCode') } : {}),
        ...(node && node !== '(null)' ? { node } : {}),
        ...(fields.get('Restarts') ? { restarts: Number(fields.get('Restarts')) } : {}),
      });
  }
  return records;
}

/** "3", "0-3", "0,2-3", "0-3%1" → the task ids. */
function taskIds(spec: string): number[] {
  const ids: number[] = [];
  for (const part of spec.replace(/%\d+$/, '').split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a)) continue;
    for (let i = a; i <= (Number.isInteger(b) ? b : a); i++) ids.push(i);
  }
  return ids;
}

/** The exit-status file an array task writes when moebench returns (src/slurm/script.ts). */
export interface TaskStatus {
  arrayJobId: string;
  taskId: number;
  jobId: string;
  node: string;
  exitCode: number;
  endedAt: string;
  /** SLURM_RESTART_COUNT of the attempt that wrote it (absent in files from before it was recorded: 0) */
  restarts?: number;
}

/** What moebench said last in a task's log: its one-line error, or the log's last line. */
export function reasonFromLog(log: string): string | undefined {
  const lines = log
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const said = lines.filter((l) => l.startsWith('moebench: ') && !l.startsWith('moebench slurm: '));
  return said.at(-1) ?? lines.at(-1);
}

/** Where a task stands while the job lives: Slurm's word, or the outcome once it has ended. */
export type TaskState = 'pending' | 'running' | SlurmTask['outcome'];

/** exit 130/143: interrupted by SIGINT/SIGTERM (scancel, a time limit), the file left resumable. */
const INTERRUPTED = new Set([130, 143]);
const ENDED_BY_SLURM = new Set(['CANCELLED', 'TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'BOOT_FAIL', 'DEADLINE', 'OUT_OF_MEMORY', 'FAILED']);

/**
 * A task's state from what there is: its exit-status file (written when moebench returned) first,
 * then Slurm's record. No file and no record: it never ran, or was killed before it could write one.
 */
export function taskState(status: TaskStatus | undefined, record: SlurmRecord | undefined): { state: TaskState; reason?: string } {
  // a requeued task's earlier attempt left its exit status: Slurm's word on the new attempt wins
  if (status && record && (record.restarts ?? 0) > (status.restarts ?? 0)) status = undefined;
  if (status) {
    if (status.exitCode === 0) return { state: 'done' };
    if (INTERRUPTED.has(status.exitCode))
      return {
        state: 'interrupted',
        reason: `stopped by a signal (exit ${status.exitCode})${record ? `, Slurm: ${record.state}` : ''}; its file resumes`,
      };
    return { state: 'failed' };
  }
  if (!record)
    return { state: 'unknown', reason: 'no exit status and Slurm no longer knows the job: it never ran, or was killed before it could write one' };
  if (record.state === 'PENDING') return { state: 'pending', ...(record.reason ? { reason: record.reason } : {}) };
  if (record.state === 'RUNNING' || record.state === 'CONFIGURING' || record.state === 'COMPLETING') return { state: 'running' };
  if (ENDED_BY_SLURM.has(record.state))
    return {
      state: record.state === 'FAILED' ? 'failed' : 'interrupted',
      reason: `Slurm: ${record.state}${record.reason ? ` (${record.reason})` : ''}`,
    };
  return { state: 'unknown', reason: `Slurm: ${record.state}, no exit status written` };
}
