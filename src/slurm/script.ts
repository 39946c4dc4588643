import { collectionPath, logPath, reportPath, runsDir, submissionDir, type SlurmPlan } from './plan.js';
import { join } from 'node:path';

/** A word for bash: single-quoted unless it needs no quoting. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function header(lines: string[], plan: SlurmPlan, group: SlurmPlan['groups'][number] | undefined): string[] {
  const partition = group?.partition ?? plan.groups[0]?.partition;
  return [
    ...lines.map((l) => `#SBATCH ${l}`),
    ...(partition ? [`#SBATCH --partition=${partition}`] : []),
    ...(group?.constraint ? [`#SBATCH --constraint=${shellWord(group.constraint)}`] : []),
    ...(group?.node ? [`#SBATCH --nodelist=${shellWord(group.node)}`] : []),
  ];
}

/**
 * One job array's sbatch script: each task runs `moebench run` on the node (and cards) Slurm gives
 * it, into a file of its own in DIR/runs; an existing file (a requeued or restarted task) is
 * resumed. SIGTERM (scancel, a time limit, a requeue) goes on to moebench, which finishes writing
 * its file and exits 143; the task then writes its exit status for collect.
 */
export function arrayScript(plan: SlurmPlan, g: number): string {
  const group = plan.groups[g];
  const q = shellWord;
  // a quoted folder and prefix, then the task and host as bash expands them
  const out = `${q(join(runsDir(plan.dir), `${plan.tag}-array${g}-task`))}"$task-$host.json"`;
  const status = `${q(join(submissionDir(plan.dir, plan.tag), 'status', `array${g}-task`))}"$task.json"`;
  return [
    '#!/bin/bash',
    `# moebench slurm ${plan.tag}, array ${g}${(['partition', 'constraint', 'node'] as const).map((k) => (group[k] ? ` (${k} ${group[k]})` : '')).join('')}:`,
    `# ${plan.tasks} task(s), one per node, each running moebench run on the cards Slurm allocates.`,
    ...header(
      [
        `--job-name=moebench-${plan.tag}`,
        `--array=0-${plan.tasks - 1}`,
        '--nodes=1',
        '--ntasks=1',
        ...(plan.gres ? [`--gres=${plan.gres}`] : []),
        ...(plan.time ? [`--time=${plan.time}`] : []),
        `--output=${q(logPath(plan.dir, plan.tag, g, '%a'))}`,
        // a requeued task appends to its log instead of replacing it
        '--open-mode=append',
        ...plan.sbatchArgs.map(q),
      ],
      plan,
      group,
    ),
    'set -u',
    'task=$SLURM_ARRAY_TASK_ID',
    'host=$(hostname -s)',
    `out=${out}`,
    `status=${status}`,
    'echo "moebench slurm: task $task of array job $SLURM_ARRAY_JOB_ID on $host (job $SLURM_JOB_ID, restart ${SLURM_RESTART_COUNT:-0}, CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-})"',
    "# an earlier attempt's exit status (a requeue) says nothing about this one",
    'rm -f "$status"',
    ...(plan.setup ? [plan.setup] : []),
    '# a restarted task resumes what it wrote: its file, or with --device all one file per card (FILE-gpuN.json)',
    'earlier=()',
    'for f in "$out" "${out%.json}"-gpu*.json; do [ -e "$f" ] && earlier+=("$f"); done',
    'pids=()',
    'if [ ${#earlier[@]} -gt 0 ]; then',
    `  for f in "\${earlier[@]}"; do ${plan.moebench} run --resume "$f" & pids+=($!); done`,
    'else',
    `  ${plan.moebench} run ${plan.runArgs.map(q).join(' ')} --out "$out" & pids+=($!)`,
    'fi',
    '# scancel, a time limit or a requeue sends SIGTERM: moebench writes what it has and exits',
    `trap 'kill -TERM "\${pids[@]}" 2>/dev/null' TERM INT`,
    'code=0',
    'for pid in "${pids[@]}"; do',
    '  wait $pid; rc=$?',
    '  # a trapped signal ends wait early: wait again for moebench itself',
    '  while kill -0 $pid 2>/dev/null; do wait $pid; rc=$?; done',
    '  [ $rc -ne 0 ] && code=$rc',
    'done',
    'printf \'{"arrayJobId":"%s","taskId":%d,"jobId":"%s","node":"%s","exitCode":%d,"endedAt":"%s","restarts":%d}\\n\' \\',
    '  "$SLURM_ARRAY_JOB_ID" "$task" "$SLURM_JOB_ID" "$host" "$code" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${SLURM_RESTART_COUNT:-0}" >"$status"',
    'exit $code',
    '',
  ].join('\n');
}

/** The job that runs after every array task has ended (afterany): merge and report, with each task's outcome. */
export function collectScript(plan: SlurmPlan): string {
  const q = shellWord;
  return [
    '#!/bin/bash',
    `# moebench slurm ${plan.tag}: after every task has ended, merge ${runsDir(plan.dir)}/${plan.tag}-* into`,
    `# ${collectionPath(plan.dir, plan.tag)} and report it to ${reportPath(plan.dir, plan.tag)}, listing each task's outcome.`,
    ...header(
      [
        `--job-name=moebench-${plan.tag}-collect`,
        '--nodes=1',
        '--ntasks=1',
        `--output=${q(join(submissionDir(plan.dir, plan.tag), 'logs', 'collect.log'))}`,
        '--open-mode=append',
      ],
      plan,
      undefined,
    ),
    'set -u',
    ...(plan.setup ? [plan.setup] : []),
    `exec ${plan.moebench} slurm collect ${q(plan.dir)} --tag ${q(plan.tag)}`,
    '',
  ].join('\n');
}
