import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAnyFile, readResultFile } from '../results/io.js';
import type { CollectionFile } from '../results/schema.js';
import { gpusPerNode } from '../commands/slurm.js';
import { parseScontrolJobs, reasonFromLog, taskState } from '../slurm/outcomes.js';
import { taskTable } from '../slurm/statusText.js';
import { fakeScript, moebench, ROOT, smiCard, standInNvidiaSmi, TINY_FAKE_RUN } from './helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'moebench-slurm-'));

describe('what Slurm says, read', () => {
  // two array tasks as `scontrol show job -o` printed them on the test cluster (Slurm 22.05), cut to the fields read
  const SCONTROL = [
    'JobId=12 ArrayJobId=11 ArrayTaskId=0 JobName=moebench-T UserId=root(0) JobState=COMPLETED Reason=None Dependency=(null) ExitCode=0:0 NodeList=vm BatchHost=vm Command=/r/slurm/T/array0.sbatch',
    'JobId=11 ArrayJobId=11 ArrayTaskId=1 JobName=moebench-T UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=2:0 NodeList=vm BatchHost=vm Command=/r/slurm/T/array0.sbatch',
    'JobId=13 ArrayJobId=13 ArrayTaskId=2-3%1 JobName=moebench-T JobState=PENDING Reason=Resources ExitCode=0:0 NodeList=(null)',
    'JobId=14 ArrayJobId=14 ArrayTaskId=0 JobName=moebench-T JobState=PENDING Reason=BeginTime Requeue=1 Restarts=1 BatchFlag=1 ExitCode=0:15 NodeList=(null)',
  ].join('\n');

  it('parses each array task, a pending range one record per task', () => {
    expect(parseScontrolJobs(SCONTROL)).toEqual([
      { arrayJobId: '11', taskId: 0, state: 'COMPLETED', exitCode: '0:0', node: 'vm' },
      { arrayJobId: '11', taskId: 1, state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '2:0', node: 'vm' },
      { arrayJobId: '13', taskId: 2, state: 'PENDING', reason: 'Resources', exitCode: '0:0' },
      { arrayJobId: '13', taskId: 3, state: 'PENDING', reason: 'Resources', exitCode: '0:0' },
      { arrayJobId: '14', taskId: 0, state: 'PENDING', reason: 'BeginTime', exitCode: '0:15', restarts: 1 },
    ]);
  });

  it('a task ends as its exit status says; without one, as Slurm says; without either, unknown', () => {
    const status = (exitCode: number) => ({ arrayJobId: '11', taskId: 0, jobId: '12', node: 'vm', exitCode, endedAt: '' });
    expect(taskState(status(0), undefined)).toEqual({ state: 'done' });
    expect(taskState(status(2), undefined)).toEqual({ state: 'failed' });
    expect(taskState(status(143), { arrayJobId: '11', taskId: 0, state: 'CANCELLED' }).state).toBe('interrupted');
    expect(taskState(undefined, { arrayJobId: '11', taskId: 0, state: 'TIMEOUT' })).toEqual({ state: 'interrupted', reason: 'Slurm: TIMEOUT' });
    expect(taskState(undefined, { arrayJobId: '11', taskId: 0, state: 'PENDING', reason: 'Resources' })).toEqual({
      state: 'pending',
      reason: 'Resources',
    });
    expect(taskState(undefined, { arrayJobId: '11', taskId: 0, state: 'RUNNING' })).toEqual({ state: 'running' });
    expect(taskState(undefined, undefined).state).toBe('unknown');
  });

  it("a requeued task's earlier exit status gives way to Slurm's word on its new attempt", () => {
    const interrupted = { arrayJobId: '14', taskId: 0, jobId: '14', node: 'vm', exitCode: 143, endedAt: '' };
    const [requeued] = parseScontrolJobs(SCONTROL).filter((r) => r.arrayJobId === '14');
    expect(taskState(interrupted, requeued)).toEqual({ state: 'pending', reason: 'BeginTime' });
    expect(taskState(interrupted, { ...requeued, state: 'RUNNING' })).toEqual({ state: 'running' });
    // the new attempt's own status (restart 1) stands
    expect(taskState({ ...interrupted, exitCode: 0, restarts: 1 }, { ...requeued, state: 'COMPLETING' })).toEqual({ state: 'done' });
    // without a requeue the status stands as before
    expect(taskState(interrupted, { ...requeued, restarts: 0, state: 'CANCELLED' }).state).toBe('interrupted');
  });

  it("a failed task's reason is moebench's last line in its log", () => {
    const log =
      'moebench slurm: task 1 of array job 11 on vm\n[1/2] measuring\nmoebench: no GPU visible: CUDA_VISIBLE_DEVICES=1 hides all 1 cards nvidia-smi lists\n\n';
    expect(reasonFromLog(log)).toBe('moebench: no GPU visible: CUDA_VISIBLE_DEVICES=1 hides all 1 cards nvidia-smi lists');
    expect(reasonFromLog('Traceback\nSegmentation fault\n')).toBe('Segmentation fault');
  });

  it('status keeps a short why in its column and wraps a long one under the table, so the table fits 120 columns', () => {
    const pending = { task: '11_0', array: 'gpu', state: 'pending', node: '-', cases: 0, why: 'Resources' };
    expect(taskTable([pending]).split('\n')).toEqual([
      'task  array  state    node  cases  why',
      '----  -----  -------  ----  -----  ---------',
      '11_0  gpu    pending  -     0      Resources',
    ]);
    // the log's last line of a task whose card was not there: 152 characters
    const why = `moebench: no GPU visible: CUDA_VISIBLE_DEVICES=5 hides all 1 cards nvidia-smi lists; ${'x'.repeat(40)} and the rest of a long line`;
    const failed = { task: '11_1', array: 'gpu', state: 'failed', node: 'vm', cases: 0, why };
    const text = taskTable([pending, failed]);
    expect(text.split('\n')).toEqual([
      'task  array  state    node  cases',
      '----  -----  -------  ----  -----',
      '11_0  gpu    pending  -     0',
      '11_1  gpu    failed   vm    0',
      '',
      'why:',
      '  11_0: Resources',
      '  11_1: moebench: no GPU visible: CUDA_VISIBLE_DEVICES=5 hides all 1 cards nvidia-smi lists;',
      `    ${'x'.repeat(40)} and the rest of a long line`,
    ]);
  });

  it("reads a partition's GPUs per node from sinfo's GRES column", () => {
    expect(gpusPerNode('gpu:2')).toBe(2);
    expect(gpusPerNode('gpu:h100:8(S:0-1) gpu:a100:4')).toBe(8);
    expect(gpusPerNode('(null)')).toBe(0);
  });
});

describe('moebench slurm submit --dry-run', () => {
  it('prints the sbatch scripts and how they would be submitted, and submits nothing (no Slurm needed)', () => {
    const dir = tmp();
    const r = moebench(
      ['slurm', 'submit', '--results', dir, '--partition', 'h100,h200', '--nodes', '4', '--gres', 'gpu:8', '--time', '1:00:00', '--dry-run'].concat([
        '--',
        '--suite',
        'deepseek-v3',
        '--backend',
        'ort-cuda',
        '--device',
        'all',
        '--model-dir',
        "/scratch/lab's models",
      ]),
      { PATH: '/usr/bin:/bin' },
    );
    expect(r.status, r.stderr).toBe(0);
    // one array per partition, then the collecting job after both
    expect(r.stdout.match(/^#SBATCH --array=0-3$/gm)).toHaveLength(2);
    for (const p of ['h100', 'h200']) expect(r.stdout).toContain(`#SBATCH --partition=${p}`);
    expect(r.stdout).toMatch(/^#SBATCH --gres=gpu:8$/m);
    expect(r.stdout).toMatch(/^#SBATCH --time=1:00:00$/m);
    expect(r.stdout).toMatch(
      /run --suite deepseek-v3 --backend ort-cuda --device all --model-dir '\/scratch\/lab'\\''s models' --out "\$out" & pids\+=\(\$!\)$/m,
    );
    // a restarted task resumes its file, or each card's under --device all
    expect(r.stdout).toContain('for f in "$out" "${out%.json}"-gpu*.json; do [ -e "$f" ] && earlier+=("$f"); done');
    expect(r.stdout).toMatch(/^ {2}for f in "\$\{earlier\[@\]\}"; do .* run --resume "\$f" & pids\+=\(\$!\); done$/m);
    expect(r.stdout).toMatch(/^sbatch --dependency=afterany:\$A0:\$A1 .*collect\.sbatch$/m);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('--nodelist: an array of one task on each named node', () => {
    const r = moebench([
      'slurm',
      'submit',
      '--results',
      tmp(),
      '--nodelist',
      'gpu-a,gpu-b',
      '--gres',
      'gpu:8',
      '--dry-run',
      '--',
      '--preset',
      'tiny',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/^#SBATCH --array=0-0$/gm)).toHaveLength(2);
    expect(r.stdout.match(/^#SBATCH --nodelist=gpu-[ab]$/gm)).toEqual(['#SBATCH --nodelist=gpu-a', '#SBATCH --nodelist=gpu-b']);
    const both = moebench(['slurm', 'submit', '--results', tmp(), '--nodelist', 'gpu-a', '--nodes', '2', '--dry-run', '--', '--preset', 'tiny']);
    expect(both.status).toBe(2);
    expect(both.stderr.trim()).toBe('moebench: give --nodes N (any N nodes) or --nodelist a,b (these nodes, a task each), not both');
  });

  it('refuses the run options it sets itself', () => {
    const r = moebench(['slurm', 'submit', '--results', tmp(), '--dry-run', '--', '--preset', 'tiny', '--out', 'x.json']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^moebench: --out is moebench slurm's own: each task writes, and on a restart resumes, a file of its own in /);
  });

  it('without sbatch on PATH: one line, exit 2, nothing written', () => {
    const dir = join(tmp(), 'results');
    const r = moebench(['slurm', 'submit', '--results', dir, '--', '--preset', 'tiny'], { PATH: '/nonexistent' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("moebench: no sbatch on PATH: run moebench slurm on a Slurm login node (or load the cluster's slurm module)");
    expect(existsSync(dir)).toBe(false);
  });
});

/** The one-node cluster of scripts/setup-slurm.sh: 2 CPUs, partition moebench, two simulated GPUs. */
describe('on a real Slurm cluster (scripts/setup-slurm.sh)', () => {
  let env: Record<string, string> = {};
  beforeAll(() => {
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'setup-slurm.sh')], { encoding: 'utf8', timeout: 240_000 });
    if (r.status !== 0) throw new Error(`scripts/setup-slurm.sh failed: ${r.stderr}`);
    env = { SLURM_CONF: /SLURM_CONF=(\S+)/.exec(r.stdout)![1] };
  }, 300_000);
  afterAll(() => {
    spawnSync('bash', [join(ROOT, 'scripts', 'setup-slurm.sh'), 'stop']);
  });

  /** Waits (bounded) for the collecting job to end, then reads the collection it wrote. */
  const collected = async (dir: string): Promise<CollectionFile> => {
    for (let waited = 0, empty = 0; waited < 240; waited++) {
      const q = spawnSync('squeue', ['-h'], { env: { ...process.env, ...env }, encoding: 'utf8' });
      // a squeue that failed (a busy slurmctld) says nothing about the queue; an empty queue is
      // believed on its second reading, a second apart, so no passing state between attempts can end the wait
      empty = q.status === 0 && q.stdout.trim() === '' ? empty + 1 : 0;
      const found = readdirSync(dir).find((f) => f.endsWith('-collection.json'));
      if (found && empty >= 2) {
        const any = readAnyFile(join(dir, found));
        if (any.kind === 'collection') return any.file;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`no collection in ${dir} after 240 s: ${spawnSync('squeue', [], { env: { ...process.env, ...env }, encoding: 'utf8' }).stdout}`);
  };

  it('bad input: a partition or node that does not exist, more GPUs than a node has, an unwritable folder; one line, exit 2, nothing queued', () => {
    const dir = join(tmp(), 'results');
    const cases: [string[], string][] = [
      [['--partition', 'nope'], 'moebench: no partition nope on this cluster (partitions: moebench)'],
      [['--gres', 'gpu:4'], 'moebench: --gres gpu:4: the nodes of the default partition have at most 2 GPU(s)'],
      [
        ['--nodelist', 'nope'],
        `moebench: no node nope on this cluster (nodes: ${spawnSync('hostname', ['-s'], { encoding: 'utf8' }).stdout.trim()})`,
      ],
    ];
    for (const [args, line] of cases) {
      const r = moebench(['slurm', 'submit', '--results', dir, ...args, '--', '--preset', 'tiny'], env);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim()).toBe(line);
    }
    expect(existsSync(dir)).toBe(false);
    const file = join(tmp(), 'a-file');
    writeFileSync(file, '');
    const unwritable = moebench(['slurm', 'submit', '--results', join(file, 'results'), '--', '--preset', 'tiny'], env);
    expect(unwritable.status).toBe(2);
    expect(unwritable.stderr.trim()).toBe(`moebench: cannot write to the results folder ${join(file, 'results')}: ENOTDIR`);
    const queue = spawnSync('squeue', ['-h'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(queue.stdout.trim()).toBe('');
  });

  it("a two-task array and its merge/report job: both tasks' cases in one collection, one report, the Slurm ids recorded", async () => {
    const dir = tmp();
    const r = moebench(
      ['slurm', 'submit', '--results', dir, '--nodes', '2', '--gres', 'gpu:1', '--'].concat([
        '--preset',
        'tiny',
        '--layer',
        'dense',
        '--phase',
        'decode',
        '--tokens',
        '4',
        '--backend',
        'ort-cpu',
        '--repetitions',
        '1',
        '--max-time-ms',
        '200',
      ]),
      env,
    );
    expect(r.status, r.stderr).toBe(0);
    const [, array, collect] = /: job (\d+); merge and report: job (\d+)/.exec(r.stdout)!;
    const collection = await collected(dir);
    expect(collection.runs).toHaveLength(2);
    expect(collection.runs.map((run) => run.cases.length)).toEqual([1, 1]);
    expect(collection.runs.map((run) => run.environment.slurm).sort((a, b) => Number(a!.arrayTaskId) - Number(b!.arrayTaskId))).toMatchObject([
      { arrayJobId: array, arrayTaskId: '0', partition: 'moebench' },
      { arrayJobId: array, arrayTaskId: '1', partition: 'moebench' },
    ]);
    // each task saw the card Slurm allocated it (the same one when the tasks ran one after the other)
    for (const run of collection.runs) expect(['0', '1']).toContain(run.environment.envVars.CUDA_VISIBLE_DEVICES);
    expect(collection.slurm).toMatchObject({ jobIds: [array, collect] });
    expect(collection.slurm!.tasks.map((t) => [t.taskId, t.outcome, t.exitCode])).toEqual([
      [0, 'done', 0],
      [1, 'done', 0],
    ]);
    const report = readdirSync(dir).find((f) => f.endsWith('-report.html'));
    expect(report).toBeDefined();
    expect(readFileSync(join(dir, report!), 'utf8')).toContain('<b>Slurm tasks:</b> 2 of 2 done');
    // by folder, and by the array's job id while Slurm remembers it
    for (const target of [dir, array]) {
      const status = moebench(['slurm', 'status', target], env);
      expect(status.status, status.stderr).toBe(0);
      expect(status.stdout).toMatch(
        /2 task\(s\): 0 pending, 0 running, 2 done, 0 failed, 0 interrupted, 0 unknown; merge and report \(job \d+\): written/,
      );
    }
  }, 300_000);

  it("a task that fails is listed as failed, with why, and the other task's results are kept", async () => {
    const dir = tmp();
    // task 1's node lists a card Slurm did not allocate (index 5): the card it was given is not there
    const smi = standInNvidiaSmi([
      `card() { echo "${smiCard('$1', 'NVIDIA H100 80GB HBM3', 'GPU-$1')}"; }`,
      'if [ "$SLURM_ARRAY_TASK_ID" = 1 ]; then card 5; else card 0; card 1; fi',
    ]);
    const r = moebench(['slurm', 'submit', '--results', dir, '--nodes', '2', '--gres', 'gpu:1', '--', ...TINY_FAKE_RUN.slice(1)], {
      ...env,
      ...fakeScript({ latenciesMs: [1] }),
      ...smi,
    });
    expect(r.status, r.stderr).toBe(0);
    const collection = await collected(dir);
    const byTask = new Map(collection.slurm!.tasks.map((t) => [t.taskId, t]));
    const failed = [...byTask.values()].find((t) => t.outcome === 'failed')!;
    const done = [...byTask.values()].find((t) => t.outcome === 'done')!;
    expect(failed).toMatchObject({
      taskId: 1,
      exitCode: 2,
      reason: expect.stringMatching(/^moebench: no GPU visible: CUDA_VISIBLE_DEVICES=[01] hides all 1 cards nvidia-smi lists$/),
      files: [],
    });
    expect(done.files).toHaveLength(1);
    expect(collection.runs).toHaveLength(1);
    expect(collection.runs[0].source).toBe(done.files[0]);
    expect(readResultFile(done.files[0]).cases.length).toBeGreaterThan(0);
    const report = readFileSync(
      join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('-report.html'))!,
      ),
      'utf8',
    );
    expect(report).toContain('<b>Slurm tasks:</b> 1 of 2 done');
    expect(report).toMatch(/task \d+_1: failed on \w+: moebench: no GPU visible: CUDA_VISIBLE_DEVICES=[01] hides all 1 cards nvidia-smi lists/);
  }, 300_000);

  it('--device all: one file per card, and a restarted task resumes each of them', async () => {
    const dir = tmp();
    const smi = standInNvidiaSmi([
      `echo "${smiCard(0, 'NVIDIA H100 80GB HBM3', 'GPU-aaaa')}"`,
      `echo "${smiCard(1, 'NVIDIA H100 80GB HBM3', 'GPU-bbbb')}"`,
    ]);
    const taskEnv = { ...env, ...fakeScript({ latenciesMs: [1] }), ...smi };
    const r = moebench(['slurm', 'submit', '--results', dir, '--gres', 'gpu:2', '--', ...TINY_FAKE_RUN.slice(1), '--device', 'all'], taskEnv);
    expect(r.status, r.stderr).toBe(0);
    const array = /: job (\d+);/.exec(r.stdout)![1];
    const first = await collected(dir);
    const files = first.slurm!.tasks[0].files.map((f) => f.replace(/^.*-(gpu\d)\.json$/, '$1'));
    expect(files.sort()).toEqual(['gpu0', 'gpu1']);
    // the finished task requeued: it starts again, finds both cards' files, and resumes each (nothing left to measure)
    const slurm = (...args: string[]) => spawnSync(args[0], args.slice(1), { env: { ...process.env, ...taskEnv }, encoding: 'utf8' });
    expect(slurm('scontrol', 'requeue', `${array}_0`).status).toBe(0);
    const log = first.slurm!.tasks[0].log;
    for (let waited = 0; waited < 120; waited++) {
      slurm('scontrol', 'update', `jobid=${array}_0`, 'StartTime=now');
      await new Promise((res) => setTimeout(res, 1000));
      if (/restart 1/.test(readFileSync(log, 'utf8')) && !slurm('squeue', '-h').stdout.trim()) break;
    }
    const again = readFileSync(log, 'utf8').split(/restart 1/)[1] ?? '';
    expect(again.match(/already in the file/g), again).toHaveLength(2);
    expect(
      readdirSync(join(dir, 'runs'))
        .sort()
        .map((f) => f.replace(/^.*-(gpu\d)\.json$/, '$1')),
    ).toEqual(['gpu0', 'gpu1']);
    const status = JSON.parse(readFileSync(join(dir, 'slurm', first.slurm!.tag, 'status', 'array0-task0.json'), 'utf8'));
    expect(status.exitCode).toBe(0);
  }, 300_000);

  it('a task stopped by Slurm (requeued) leaves a valid file, and its restart resumes it to the end', async () => {
    const dir = tmp();
    const r = moebench(
      ['slurm', 'submit', '--results', dir, '--'].concat(
        ['--preset', 'tiny', '--layer', 'dense,moe', '--phase', 'prefill,decode', '--tokens', '4,16', '--backend', 'ort-cpu', '--repetitions', '1'],
        ['--min-time-ms', '1000', '--max-time-ms', '1000'],
      ),
      env,
    );
    expect(r.status, r.stderr).toBe(0);
    const array = /: job (\d+);/.exec(r.stdout)![1];
    const slurm = (...args: string[]) => spawnSync(args[0], args.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8' });
    // requeue once the task's file holds a case or two
    let file: string | undefined;
    for (let waited = 0; waited < 120 && !file; waited++) {
      await new Promise((res) => setTimeout(res, 1000));
      const runs = join(dir, 'runs');
      const found = existsSync(runs) ? readdirSync(runs).find((f) => f.endsWith('.json')) : undefined;
      if (found && readResultFile(join(runs, found)).cases.length >= 1) file = join(runs, found);
    }
    expect(file, 'the task wrote no case in 120 s').toBeDefined();
    expect(slurm('scontrol', 'requeue', `${array}_0`).status).toBe(0);
    // a requeued job waits for a begin time (about two minutes); let it start again now. Slurm refuses
    // the update until the first attempt has ended, which can take seconds on a loaded machine, so it
    // is repeated until the second attempt has begun (as the --device all test above does)
    const tag = readdirSync(join(dir, 'slurm'))[0];
    const logFile = join(dir, 'slurm', tag, 'logs', 'array0-task0.log');
    for (let waited = 0; waited < 240 && !/restart 1/.test(readFileSync(logFile, 'utf8')); waited++) {
      slurm('scontrol', 'update', `jobid=${array}_0`, 'StartTime=now');
      await new Promise((res) => setTimeout(res, 1000));
    }
    const diagnosis = () =>
      [
        `squeue: ${slurm('squeue', '-h').stdout}`,
        `scontrol: ${slurm('scontrol', 'show', 'job', '-o', array).stdout}`,
        `collect.log: ${existsSync(join(dir, 'slurm', tag, 'logs', 'collect.log')) ? readFileSync(join(dir, 'slurm', tag, 'logs', 'collect.log'), 'utf8') : '(none)'}`,
        `task log: ${readFileSync(logFile, 'utf8')}`,
      ].join('\n');
    expect(readFileSync(logFile, 'utf8'), `the requeued task did not start again in 240 s\n${diagnosis()}`).toMatch(/restart 1/);
    const collection = await collected(dir);
    const log = readFileSync(collection.slurm!.tasks[0].log, 'utf8');
    expect(log).toMatch(/interrupted: \d+ case\(s\) are saved in /);
    expect(collection.slurm!.tasks[0], diagnosis()).toMatchObject({ outcome: 'done', exitCode: 0 });
    // one file, resumed: every case of the run in it once
    expect(collection.runs).toHaveLength(1);
    expect(collection.runs[0].cases).toHaveLength(8);
    expect(collection.runs[0].environment.slurm).toMatchObject({ arrayJobId: array, arrayTaskId: '0' });
  }, 400_000);

  it('the merge-and-report job that finds a task queued again submits itself again behind it, and merges once it has ended', async () => {
    const dir = tmp();
    // held, the task stays queued: as a requeued task is between its attempts
    const run = ['--preset', 'tiny', '--layer', 'dense', '--phase', 'prefill', '--tokens', '4', '--backend', 'ort-cpu'];
    const r = moebench(['slurm', 'submit', '--results', dir, '--sbatch-arg=--hold', '--', ...run], env);
    expect(r.status, r.stderr).toBe(0);
    const [, array, collect] = /: job (\d+);.*job (\d+) \(after all tasks end\)/.exec(r.stdout)!;
    const slurm = (...args: string[]) => spawnSync(args[0], args.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8' });
    // the collecting job as if Slurm had started it now: it stands aside for the queued task
    expect(slurm('scancel', collect).status).toBe(0);
    const early = moebench(['slurm', 'collect', dir], { ...env, SLURM_JOB_ID: collect });
    expect(early.status, early.stderr).toBe(0);
    const again = new RegExp(`: ${array}_0 \\(pending\\) queued again \\(requeued\\): merge and report after they end, job (\\d+)$`).exec(
      early.stdout.trim(),
    );
    expect(again, early.stdout).not.toBeNull();
    expect(readdirSync(dir).filter((f) => f.endsWith('-collection.json'))).toEqual([]);
    const tag = readdirSync(join(dir, 'slurm'))[0];
    expect(JSON.parse(readFileSync(join(dir, 'slurm', tag, 'submission.json'), 'utf8')).collectJobId).toBe(again![1]);
    // run by hand (not the collecting job), collect merges what there is, the queued task named
    const byHand = moebench(['slurm', 'collect', dir], env);
    expect(byHand.status).toBe(1);
    expect(byHand.stdout).toContain(`task ${array}_0: unknown`);
    rmSync(join(dir, `${tag}-collection.json`));
    expect(slurm('scontrol', 'release', array).status).toBe(0);
    const collection = await collected(dir);
    expect(collection.slurm).toMatchObject({ jobIds: [array, again![1]] });
    expect(collection.slurm!.tasks.map((t) => t.outcome)).toEqual(['done']);
    expect(collection.runs[0].cases).toHaveLength(1);
  }, 300_000);
});
