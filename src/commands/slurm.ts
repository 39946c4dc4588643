import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileDurable } from '../files/durable.js';
import { writeCollectionAtomic } from '../results/io.js';
import { mergeRuns } from '../results/merge.js';
import { loadRuns, type LoadedRuns, type Run } from '../results/runs.js';
import type { SlurmTask } from '../results/schema.js';
import { parseScontrolJobs, reasonFromLog, taskState, type SlurmRecord, type TaskState, type TaskStatus } from '../slurm/outcomes.js';
import {
  collectionPath,
  logPath,
  reportPath,
  runFilePrefix,
  runsDir,
  statusPath,
  submissionDir,
  type SlurmPlan,
  type Submission,
} from '../slurm/plan.js';
import { arrayScript, collectScript } from '../slurm/script.js';
import { taskTable } from '../slurm/statusText.js';
import type { Io } from './io.js';
import { reportCommand } from './report.js';

/** What submit is given on the command line. */
export interface SubmitOptions {
  results: string;
  partition?: string;
  constraint?: string;
  nodes: number;
  nodelist?: string;
  gres?: string;
  time?: string;
  sbatchArg: string[];
  moebench?: string;
  setup?: string;
  dryRun: boolean;
  runArgs: string[];
}

/** A Slurm client command's stdout, or undefined with why (not on PATH, or its error). */
function slurm(cmd: string, args: string[]): { out: string } | { error: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return { error: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `no ${cmd} on PATH` : r.error.message };
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n').pop() ?? `${cmd} exited ${r.status}` };
  return { out: r.stdout };
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, cmd)));
}

/** The largest GPU count one node of the partition offers, from sinfo's GRES column ("gpu:8", "gpu:h100:4(S:0-1)"). */
export function gpusPerNode(gresColumn: string): number {
  let most = 0;
  for (const m of gresColumn.matchAll(/gpu(?::[\w.-]+)?:(\d+)/g)) most = Math.max(most, Number(m[1]));
  return most;
}

const list = (s: string | undefined) =>
  s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : [];

/** The checks that keep a bad submission from reaching the queue: each fails with one line, exit 2. */
function checkCluster(o: SubmitOptions, partitions: string[], notes: string[]): void {
  if (!onPath('sbatch')) throw new UsageError("no sbatch on PATH: run moebench slurm on a Slurm login node (or load the cluster's slurm module)");
  const known = slurm('sinfo', ['-h', '-o', '%R']);
  if ('error' in known) throw new UsageError(`sinfo failed: ${known.error}`);
  const names = [
    ...new Set(
      known.out
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  for (const p of partitions) if (!names.includes(p)) throw new UsageError(`no partition ${p} on this cluster (partitions: ${names.join(', ')})`);
  if (o.nodelist) {
    const nodes = slurm('sinfo', ['-h', '-N', '-o', '%N']);
    const known =
      'error' in nodes
        ? []
        : [
            ...new Set(
              nodes.out
                .split('\n')
                .map((s) => s.trim())
                .filter(Boolean),
            ),
          ];
    for (const n of list(o.nodelist)) if (!known.includes(n)) throw new UsageError(`no node ${n} on this cluster (nodes: ${known.join(', ')})`);
  }
  const wantGpus = o.gres ? /^gpu(?::[\w.-]+)?:(\d+)$/.exec(o.gres)?.[1] : undefined;
  if (o.gres && wantGpus === undefined) throw new UsageError(`--gres ${o.gres}: expected gpu:N or gpu:TYPE:N`);
  for (const p of partitions.length ? partitions : [undefined]) {
    const where = p ? ['-p', p] : [];
    const info = slurm('sinfo', ['-h', ...where, '-o', '%D %G']);
    if ('error' in info) throw new UsageError(`sinfo failed: ${info.error}`);
    const rows = info.out.split('\n').filter((l) => l.trim());
    const nodes = rows.reduce((a, l) => a + Number(l.trim().split(/\s+/)[0] || 0), 0);
    const label = p ? `partition ${p}` : 'the default partition';
    // more tasks than nodes is allowed (a small cluster, or CI's one node): they share, queued by Slurm
    if (o.nodes > nodes)
      notes.push(`${o.nodes} tasks on ${label}'s ${nodes} node(s): tasks share a node, queued by Slurm where its cards or CPUs run out`);
    if (wantGpus !== undefined) {
      const most = gpusPerNode(rows.join(' '));
      if (Number(wantGpus) > most)
        throw new UsageError(`--gres ${o.gres}: the nodes of ${label} have ${most ? `at most ${most} GPU(s)` : 'no GPUs (gres gpu)'}`);
    }
  }
}

function checkWritable(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.moebench-write-check-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    throw new UsageError(`cannot write to the results folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The moebench a node runs by default: this one, by absolute path (the same install on a shared file system). */
function thisMoebench(): string {
  return [process.execPath, resolve(process.argv[1] ?? 'moebench')].map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w}'`)).join(' ');
}

const OWN_RUN_OPTIONS = ['--out', '--resume', '--force'];

/** The collecting job's script, beside the arrays' in the submission's folder. */
const COLLECT_SCRIPT = 'collect.sbatch';

/** Queues SUB/collect.sbatch to run once every task of the arrays has ended, however it ended. */
function submitCollect(sub: string, arrayJobIds: string[]): { jobId: string } | { error: string } {
  const c = slurm('sbatch', ['--parsable', `--dependency=afterany:${arrayJobIds.join(':')}`, join(sub, COLLECT_SCRIPT)]);
  return 'error' in c ? c : { jobId: c.out.trim().split(';')[0] };
}

function writeSubmission(s: Submission): void {
  writeFileDurable(join(submissionDir(s.dir, s.tag), 'submission.json'), `${JSON.stringify(s, null, 2)}\n`, 'submission');
}

/** `moebench slurm submit`: writes the arrays' and the collecting job's sbatch scripts into the results folder and submits them. */
export async function slurmSubmit(o: SubmitOptions, io: Io): Promise<number> {
  if (!Number.isInteger(o.nodes) || o.nodes < 1) throw new UsageError(`--nodes must be a whole number ≥ 1, got ${o.nodes}`);
  for (const a of o.runArgs)
    if (OWN_RUN_OPTIONS.includes(a.split('=')[0]))
      throw new UsageError(
        `${a.split('=')[0]} is moebench slurm's own: each task writes, and on a restart resumes, a file of its own in ${runsDir(o.results)}`,
      );
  const partitions = list(o.partition);
  const constraints = list(o.constraint);
  const nodes = list(o.nodelist);
  if (nodes.length && o.nodes !== 1) throw new UsageError('give --nodes N (any N nodes) or --nodelist a,b (these nodes, a task each), not both');
  // every combination of the lists given: an array each (a named node's array has its one task)
  const groups: SlurmPlan['groups'] = [{}];
  for (const [key, values] of [
    ['partition', partitions],
    ['constraint', constraints],
    ['node', nodes],
  ] as const) {
    if (!values.length) continue;
    groups.splice(0, groups.length, ...groups.flatMap((g) => values.map((v) => ({ ...g, [key]: v }))));
  }
  const dir = resolve(o.results);
  const plan: SlurmPlan = {
    tag: new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z'),
    dir,
    groups,
    tasks: o.nodes,
    ...(o.gres ? { gres: o.gres } : {}),
    ...(o.time ? { time: o.time } : {}),
    sbatchArgs: o.sbatchArg,
    moebench: o.moebench ?? thisMoebench(),
    ...(o.setup ? { setup: o.setup } : {}),
    runArgs: o.runArgs,
  };
  const scripts = groups.map((_, g) => ({ name: `array${g}.sbatch`, text: arrayScript(plan, g) }));
  const collect = { name: COLLECT_SCRIPT, text: collectScript(plan) };
  const sub = submissionDir(dir, plan.tag);
  if (o.dryRun) {
    for (const s of [...scripts, collect]) io.out(`# ${join(sub, s.name)}\n${s.text}`);
    io.out(
      `# submitted as:\n${scripts.map((s, g) => `A${g}=$(sbatch --parsable ${join(sub, s.name)})`).join('\n')}\nsbatch --dependency=afterany:${scripts.map((_, g) => `$A${g}`).join(':')} ${join(sub, collect.name)}`,
    );
    return 0;
  }
  const notes: string[] = [];
  checkCluster(o, partitions, notes);
  checkWritable(dir);
  for (const d of [sub, join(sub, 'logs'), join(sub, 'status'), runsDir(dir)]) mkdirSync(d, { recursive: true });
  for (const s of [...scripts, collect]) writeFileSync(join(sub, s.name), s.text, { mode: 0o755 });
  const arrayJobIds: string[] = [];
  for (const s of scripts) {
    const r = slurm('sbatch', ['--parsable', join(sub, s.name)]);
    if ('error' in r) {
      // what was queued stays queued: say which, so the user can scancel it
      throw new UsageError(
        `sbatch refused ${s.name}: ${r.error}${arrayJobIds.length ? ` (already submitted: ${arrayJobIds.join(', ')}; scancel them)` : ''}`,
      );
    }
    arrayJobIds.push(r.out.trim().split(';')[0]);
  }
  const c = submitCollect(sub, arrayJobIds);
  if ('error' in c)
    throw new UsageError(
      `sbatch refused collect.sbatch: ${c.error} (the arrays ${arrayJobIds.join(', ')} are queued; run moebench slurm collect ${dir} --tag ${plan.tag} when they end)`,
    );
  const submission: Submission = {
    tag: plan.tag,
    dir,
    groups,
    tasks: plan.tasks,
    arrayJobIds,
    collectJobId: c.jobId,
    submittedAt: new Date().toISOString(),
  };
  writeSubmission(submission);
  io.out(
    [
      `moebench slurm ${plan.tag}: ${groups.length} array(s) of ${plan.tasks} task(s): job ${arrayJobIds.join(', ')}; merge and report: job ${submission.collectJobId} (after all tasks end)`,
      `  scripts and logs: ${sub}`,
      `  result files:     ${runsDir(dir)}/${plan.tag}-*`,
      `  when done:        ${collectionPath(dir, plan.tag)}, ${reportPath(dir, plan.tag)}`,
      `  meanwhile:        moebench slurm status ${dir}`,
      ...notes.map((n) => `  note: ${n}`),
    ].join('\n'),
  );
  return 0;
}

/** The submission a folder (its newest, or --tag's) or a job id names. */
function findSubmission(target: string, tag: string | undefined): Submission {
  let dir = target;
  if (/^\d+$/.test(target) && !existsSync(target)) {
    const job = slurm('scontrol', ['show', 'job', '-o', target]);
    const command = 'error' in job ? undefined : /Command=(\S+)\/array\d+\.sbatch/.exec(job.out)?.[1];
    if (!command) throw new UsageError(`Slurm does not know job ${target} (any more): give the results folder instead`);
    return readSubmission(join(command, 'submission.json'));
  }
  dir = resolve(dir);
  const tags = existsSync(join(dir, 'slurm'))
    ? readdirSync(join(dir, 'slurm')).filter((t) => existsSync(join(dir, 'slurm', t, 'submission.json')))
    : [];
  if (!tags.length) throw new UsageError(`${dir} holds no moebench slurm submission (no slurm/TAG/submission.json)`);
  const chosen = tag ?? tags.sort().at(-1)!;
  if (!tags.includes(chosen)) throw new UsageError(`${dir} has no submission ${chosen} (it has ${tags.join(', ')})`);
  return readSubmission(join(dir, 'slurm', chosen, 'submission.json'));
}

function readSubmission(path: string): Submission {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Submission;
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

interface TaskView {
  group: number;
  task: SlurmTask;
  state: TaskState;
}

/** Every task of a submission: its exit-status file, Slurm's record while it has one, its log and files. */
function tasksOf(s: Submission): TaskView[] {
  const records: SlurmRecord[] = [];
  for (const id of s.arrayJobIds) {
    const r = slurm('scontrol', ['show', 'job', '-o', id]);
    if (!('error' in r)) records.push(...parseScontrolJobs(r.out));
  }
  const files = existsSync(runsDir(s.dir)) ? readdirSync(runsDir(s.dir)) : [];
  const views: TaskView[] = [];
  s.arrayJobIds.forEach((arrayJobId, g) => {
    for (let i = 0; i < s.tasks; i++) {
      const statusFile = statusPath(s.dir, s.tag, g, i);
      const status = existsSync(statusFile) ? (JSON.parse(readFileSync(statusFile, 'utf8')) as TaskStatus) : undefined;
      const record = records.find((r) => r.arrayJobId === arrayJobId && r.taskId === i);
      const { state, reason } = taskState(status, record);
      const log = logPath(s.dir, s.tag, g, i);
      const logReason = state === 'failed' && existsSync(log) ? reasonFromLog(readFileSync(log, 'utf8')) : undefined;
      const why = logReason ?? reason;
      const node = status?.node ?? record?.node;
      views.push({
        group: g,
        state,
        task: {
          arrayJobId,
          taskId: i,
          outcome: state === 'pending' || state === 'running' ? 'unknown' : state,
          ...(status ? { exitCode: status.exitCode } : {}),
          ...(record ? { slurmState: record.state } : {}),
          ...(node ? { node } : {}),
          ...(why ? { reason: why } : {}),
          log,
          files: files.filter((f) => f.startsWith(runFilePrefix(s.tag, g, i))).map((f) => join(runsDir(s.dir), f)),
        },
      });
    }
  });
  return views;
}

function casesIn(files: string[]): number {
  try {
    return files.length ? loadRuns(files).runs.reduce((a, r) => a + r.cases.length, 0) : 0;
  } catch {
    return 0;
  }
}

/** `moebench slurm status DIR|JOB`: each task pending, running, done, failed, interrupted or unknown, and the files written so far. */
export async function slurmStatus(target: string, tag: string | undefined, io: Io): Promise<number> {
  const s = findSubmission(target, tag);
  const views = tasksOf(s);
  const rows = views.map(({ group, task, state }) => ({
    task: `${task.arrayJobId}_${task.taskId}`,
    array: [s.groups[group].partition, s.groups[group].constraint, s.groups[group].node].filter(Boolean).join(' ') || '-',
    state,
    node: task.node ?? '-',
    cases: casesIn(task.files),
    ...(task.reason ? { why: task.reason } : {}),
  }));
  const count = (st: TaskState) => views.filter((v) => v.state === st).length;
  io.out(taskTable(rows));
  const collected = existsSync(collectionPath(s.dir, s.tag));
  io.out(
    `\n${s.tag}: ${views.length} task(s): ${(['pending', 'running', 'done', 'failed', 'interrupted', 'unknown'] as TaskState[])
      .map((st) => `${count(st)} ${st}`)
      .join(', ')}; merge and report (job ${s.collectJobId}): ${collected ? `written, ${collectionPath(s.dir, s.tag)}` : 'not yet'}`,
  );
  return 0;
}

function requeueCollect(s: Submission, queued: TaskView[], io: Io): number {
  const c = submitCollect(submissionDir(s.dir, s.tag), s.arrayJobIds);
  const names = queued.map((v) => `${v.task.arrayJobId}_${v.task.taskId} (${v.state})`).join(', ');
  if ('error' in c) {
    io.err(
      `moebench: ${names} still queued and sbatch refused collect.sbatch again: ${c.error}; run moebench slurm collect ${s.dir} --tag ${s.tag} when they end`,
    );
    return 1;
  }
  const next: Submission = { ...s, collectJobId: c.jobId };
  writeSubmission(next);
  io.out(`moebench slurm ${s.tag}: ${names} queued again (requeued): merge and report after they end, job ${next.collectJobId}`);
  return 0;
}

/** `moebench slurm collect DIR`: the dependent job's work, also runnable by hand: merge the tasks' files, report them, list each task's outcome. */
export async function slurmCollect(target: string, tag: string | undefined, io: Io): Promise<number> {
  const s = findSubmission(target, tag);
  const views = tasksOf(s);
  const queued = views.filter((v) => v.state === 'pending' || v.state === 'running');
  // Slurm may start the afterany job while a requeued task is between its attempts: the submission's
  // own collecting job then queues itself again behind the arrays instead of merging half a run
  if (queued.length && process.env.SLURM_JOB_ID === s.collectJobId) return requeueCollect(s, queued, io);
  const tasks = views.map((v) => v.task);
  // one file at a time: a file no reader accepts is named on its task, and the others are still merged
  const runs: Run[] = [];
  const conflicts: LoadedRuns['conflicts'] = [];
  for (const t of tasks)
    for (const file of t.files) {
      try {
        const loaded = loadRuns([file]);
        runs.push(...loaded.runs);
        conflicts.push(...loaded.conflicts);
      } catch (err) {
        io.err(`moebench: skipped ${(err as Error).message}`);
        t.reason = [t.reason, `unreadable ${(err as Error).message}`].filter(Boolean).join('; ');
      }
    }
  const merged = runs.length ? mergeRuns(runs, conflicts) : { runs: [], conflicts: [], duplicates: 0 };
  const out = collectionPath(s.dir, s.tag);
  writeCollectionAtomic(out, {
    tool: 'moebench',
    kind: 'collection',
    ...merged,
    slurm: { tag: s.tag, jobIds: [...s.arrayJobIds, s.collectJobId], tasks },
  });
  const failed = tasks.filter((t) => t.outcome !== 'done');
  io.out(`${out}: ${merged.runs.length} run(s) from ${tasks.length - failed.length} of ${tasks.length} task(s)`);
  for (const t of failed)
    io.out(`  task ${t.arrayJobId}_${t.taskId}: ${t.outcome}${t.node ? ` on ${t.node}` : ''}${t.reason ? `: ${t.reason}` : ''} (log ${t.log})`);
  if (merged.runs.length) {
    await reportCommand([out], { out: reportPath(s.dir, s.tag), model: 'deepseek-v3', layout: 'ep=32,tp=1', contextTokens: 4096 }, io);
  } else io.out('no task wrote a result file: no report');
  return failed.length ? 1 : 0;
}
