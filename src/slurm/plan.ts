import { join } from 'node:path';

/** One `moebench slurm submit`: what each array task runs, where, and where its files go. */
export interface SlurmPlan {
  /** Names this submission's files and jobs: a UTC timestamp, so submissions to one folder never collide. */
  tag: string;
  /** The shared results folder (absolute): every node writes there. */
  dir: string;
  /** One job array per group: several partitions or constraints (card types) give one array each, and each named node one. */
  groups: { partition?: string; constraint?: string; node?: string }[];
  /** Tasks per array: one per node (1 for a named node's array). */
  tasks: number;
  /** Generic resources per task, e.g. gpu:8 (a whole node) or gpu:1. */
  gres?: string;
  /** Slurm's time limit per task (e.g. 2:00:00). */
  time?: string;
  /** Further #SBATCH lines for the arrays (e.g. --account=lab, --exclusive). */
  sbatchArgs: string[];
  /** The shell words that run moebench on a node: the same install on a shared file system, or an unpacked bundle. */
  moebench: string;
  /** A shell line each job runs first (e.g. unpack the pack:offline bundle on the node). */
  setup?: string;
  /** The `moebench run` options every task runs with. */
  runArgs: string[];
}

/** Where a submission's scripts, logs and exit-status files live: DIR/slurm/TAG. */
export const submissionDir = (dir: string, tag: string) => join(dir, 'slurm', tag);
/** Where the tasks' result files go; only this folder is scanned by collect. */
export const runsDir = (dir: string) => join(dir, 'runs');
/** A task's result file: unique per submission, array, task and node (a task requeued onto another node starts its own file). */
export const runFilePrefix = (tag: string, group: number, task: number) => `${tag}-array${group}-task${task}-`;
export const collectionPath = (dir: string, tag: string) => join(dir, `${tag}-collection.json`);
export const reportPath = (dir: string, tag: string) => join(dir, `${tag}-report.html`);
export const statusPath = (dir: string, tag: string, group: number, task: number) =>
  join(submissionDir(dir, tag), 'status', `array${group}-task${task}.json`);
/** A task's log; task may be Slurm's %a, which the array script's --output expands. */
export const logPath = (dir: string, tag: string, group: number, task: number | string) =>
  join(submissionDir(dir, tag), 'logs', `array${group}-task${task}.log`);

/** What submit records beside the scripts, so status and collect need nothing but the folder. */
export interface Submission {
  tag: string;
  dir: string;
  groups: SlurmPlan['groups'];
  tasks: number;
  /** The arrays' job ids, in group order, and the collecting job's. */
  arrayJobIds: string[];
  collectJobId: string;
  submittedAt: string;
}
