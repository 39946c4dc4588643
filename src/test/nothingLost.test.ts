import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResultFile, readResultFile } from '../results/io.js';
import { defaultResultPath } from '../run/schedule.js';
import { CLI, moebench, WORKDIR, fakeScript, TINY_FAKE_RUN, tinyRun } from './helpers/cli.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'fake-run.json');
const ONE = [...TINY_FAKE_RUN, '--repetitions', '1'];
const tmp = () => mkdtempSync(join(tmpdir(), 'moebench-lost-'));
/** ONE with its MoE twin: two cases. */
const TWO = ONE.map((a) => (a === 'dense' ? 'dense,moe' : a));

describe('a new run never overwrites a file', () => {
  it("moebench run --out notes.json, someone's existing non-result file: refused, the file untouched", () => {
    const out = join(tmp(), 'notes.json');
    writeFileSync(out, '{"my": "notes"}\n');
    const r = moebench([...ONE, '--out', out], fakeScript({ latenciesMs: [1] }));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/notes\.json already exists: a new run never overwrites a file; continue it with --resume .*--force/);
    expect(readFileSync(out, 'utf8')).toBe('{"my": "notes"}\n');
  });

  it('--out victim.json, an existing result file: refused; with --force it is kept as victim.json.bak', () => {
    const dir = tmp();
    const out = join(dir, 'victim.json');
    copyFileSync(FIXTURE, out);
    const before = readFileSync(out, 'utf8');
    expect(moebench([...ONE, '--out', out], fakeScript({ latenciesMs: [1] })).status).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe(before);
    const forced = moebench([...ONE, '--out', out, '--force'], fakeScript({ latenciesMs: [1] }));
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/--force: moved the existing .*victim\.json to .*victim\.json\.bak/);
    expect(readFileSync(join(dir, 'victim.json.bak'), 'utf8')).toBe(before);
    expect(readResultFile(out).cases).toHaveLength(1);
  });

  it('two runs started in the same second without --out write two files', async () => {
    const dir = tmp();
    const start = () =>
      new Promise<number | null>((resolve) => {
        // in the folder given, so both default to its results/
        const child = spawn(process.execPath, [CLI, ...ONE, '--model-dir', join(dir, 'models')], {
          cwd: dir,
          env: { ...process.env, ...fakeScript({ latenciesMs: [1] }) },
          stdio: 'ignore',
        });
        child.on('exit', resolve);
      });
    expect(await Promise.all([start(), start()])).toEqual([0, 0]);
    const files = readdirSync(join(dir, 'results')).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(2);
    for (const f of files) expect(readResultFile(join(dir, 'results', f)).cases).toHaveLength(1);
    // the same millisecond on one host: the process id tells them apart
    const now = new Date('2026-11-24T02:00:00.123Z');
    expect(defaultResultPath('results', 'fake', 'cpu', now, 41)).not.toBe(defaultResultPath('results', 'fake', 'cpu', now, 42));
    expect(defaultResultPath('results', 'fake', 'cpu', now, 41)).toMatch(/2026-11-24T02-00-00\.123Z-.*-fake-41\.json$/);
  });

  it('report r.json --out r.json and merge r.json --out r.json are refused, r.json untouched', () => {
    const dir = tmp();
    const r = join(dir, 'r.json');
    copyFileSync(FIXTURE, r);
    const before = readFileSync(r, 'utf8');
    const report = moebench(['report', r, '--out', r]);
    expect(report.status).toBe(2);
    expect(report.stderr).toMatch(/--out .*r\.json is one of the report's inputs/);
    const merge = moebench(['merge', dir, '--out', r]);
    expect(merge.status).toBe(2);
    expect(merge.stderr).toMatch(/--out .*r\.json is one of the merge's inputs/);
    expect(readFileSync(r, 'utf8')).toBe(before);
  });
});

describe('SIGHUP (a closed terminal or ssh session) is an interrupt like SIGINT', () => {
  it('leaves a valid file with the finished cases and names the --resume command', async () => {
    const out = join(tmp(), 'r.json');
    const { child, exited, stderr } = await runUpToHang(out);
    child.kill('SIGHUP');
    expect(await exited).toBe(129);
    expect(stderr()).toMatch(/continue with: moebench run --resume .*r\.json/);
    expect(parseResultFile(readFileSync(out, 'utf8'), out).cases).toHaveLength(2);
  });
});

// tiny's cases with dense prefill hanging, started; resolves once its first two cases are saved,
// with the pid of the worker measuring the third
async function runUpToHang(out: string) {
  const child = spawn(
    process.execPath,
    [CLI, 'run', '--backend', 'fake', '--preset', 'tiny', '--tokens', '4', '--min-time-ms', '5', '--repetitions', '1', '--out', out],
    {
      env: { ...process.env, ...fakeScript({ latenciesMs: [1], hangCases: ['dense/prefill'] }) },
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: WORKDIR,
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const deadline = Date.now() + 60_000;
  let worker: number | undefined;
  while (Date.now() < deadline && worker === undefined) {
    await new Promise((r) => setTimeout(r, 50));
    if (!(existsSync(out) && readResultFile(out).cases.length === 2)) continue;
    const children = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter(Boolean);
    if (children.length === 1) worker = Number(children[0]);
  }
  expect(worker, 'the hanging case worker').toBeDefined();
  return { child, worker: worker!, exited, stderr: () => stderr };
}

describe('a scheduler stopping the job signals the case worker and the run at once (Slurm requeue)', () => {
  it('the worker stopped first is not taken for a failed case: the run stops, the case is left for --resume', async () => {
    const out = join(tmp(), 'r.json');
    const { child, worker, exited, stderr } = await runUpToHang(out);
    process.kill(worker, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr()).toMatch(/continue with: moebench run --resume .*r\.json/);
    const cases = readResultFile(out).cases;
    expect(cases.map((c) => c.status)).toEqual(['ok', 'ok']);
    expect(cases.map((c) => c.id)).not.toContain('tiny/dense/prefill/t4/fp32');
  });

  it('a worker stopped alone, the run going on, is still a failed case that says why', async () => {
    const out = join(tmp(), 'r.json');
    const { worker, exited } = await runUpToHang(out);
    process.kill(worker, 'SIGTERM');
    expect(await exited).toBe(1);
    const prefill = readResultFile(out).cases.find((c) => c.id === 'tiny/dense/prefill/t4/fp32')!;
    expect(prefill.status).toBe('failed');
    expect(prefill.status === 'failed' && prefill.error).toMatch(/^crashed: killed by SIGTERM/);
  });
});

describe('readers and odd bytes', () => {
  it('a result file that starts with a UTF-8 byte-order mark is read', () => {
    const path = join(tmp(), 'bom.json');
    writeFileSync(path, `\ufeff${readFileSync(FIXTURE, 'utf8')}`);
    expect(readResultFile(path).cases.length).toBeGreaterThan(0);
  });

  it('a binary file is described, its bytes never echoed', () => {
    const path = join(tmp(), 'model.json');
    writeFileSync(path, Buffer.from([0x08, 0x07, 0x12, 0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 0x00, 0x9c]));
    const r = moebench(['compare', path, FIXTURE]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/model\.json: not a moebench result file: binary data, not JSON text/);
    expect(r.stderr).not.toContain('\u001b[2J');
  });
});

describe('options that would have been read wrongly are refused by name', () => {
  it.each([
    [['--repetitions', '3', '--repetitions', '1'], /--repetitions was given 2 times \(3, 1\): give it once/],
    [['--max-time-ms', '300', '--max-time-ms', '1'], /--max-time-ms was given 2 times \(300, 1\): give it once/],
    [['--repetitions', '1,3'], /--repetitions takes one value, got "1,3"/],
    [['--experts', '4,16'], /--experts takes one value, got "4,16"/],
    [['--seed', '1.5'], /--seed must be a whole number of at most 2\^53, got "1.5"/],
    [['--seed', 'abc'], /--seed must be a whole number/],
    [['--seed', '1e20'], /--seed must be a whole number/],
    [['--min-samples', '0.5'], /--min-samples must be positive integers, got "0.5"/],
    [['--out', 'a.json', '--out', 'b.json'], /--out was given 2 times \(a.json, b.json\): give it once/],
  ])('run --preset tiny %j', (args, message) => {
    const r = moebench(['run', '--preset', 'tiny', '--backend', 'fake', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each(['2', '0.5'])('compare --alpha %s is refused', (alpha) => {
    const r = moebench(['compare', FIXTURE, FIXTURE, '--alpha', alpha]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--alpha must be between 0 and 0.5 (exclusive: the verdicts read the 1 − 2α interval), got "${alpha}"`);
  });
});

// ---- full disks and read-only mounts, on a small tmpfs of the test's own ----------------------

/** Mounting needs root and a mount namespace (unshare -m); CI runs as root, so there it must work. */
const CAN_MOUNT = (() => {
  const d = tmp();
  return spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o size=16k tmpfs '${d}'`]).status === 0;
})();
if (!CAN_MOUNT) console.warn('nothingLost.test: cannot mount a tmpfs here (needs root and unshare -m): the full-disk tests are skipped');
const onDisk = CAN_MOUNT ? it : it.skip;

/**
 * Runs `script` (sh) with a tmpfs of `kib` KiB mounted at $DISK in a mount namespace of its own,
 * $CLI the built moebench, $NODE this node; what is on the disk afterwards is copied to the
 * returned `after` folder (the mount goes with the namespace).
 */
function onSmallDisk(kib: number, script: string, env: Record<string, string> = {}) {
  const disk = tmp();
  const after = tmp();
  const r = spawnSync(
    'unshare',
    ['-m', 'sh', '-c', `mount -t tmpfs -o size=${kib}k tmpfs "$DISK" || exit 99\n(\n${script}\n)\nrc=$?\ncp -a "$DISK"/. "$AFTER"/\nexit $rc`],
    { encoding: 'utf8', env: { ...process.env, ...env, DISK: disk, AFTER: after, CLI, NODE: process.execPath }, cwd: tmp(), timeout: 110_000 },
  );
  return { ...r, disk, after };
}

/** A result file with two of tiny's four cases (its MoE ones; dense prefill hangs), as Ctrl-C leaves it. */
async function partialRun(): Promise<string> {
  const out = join(tmp(), 'partial.json');
  const child = spawn(
    process.execPath,
    [CLI, 'run', '--backend', 'fake', '--preset', 'tiny', '--tokens', '4', '--min-samples', '2000', '--repetitions', '1', '--out', out],
    { env: { ...process.env, ...fakeScript({ latenciesMs: [0.01], hangCases: ['dense/prefill'] }) }, stdio: 'ignore', cwd: WORKDIR },
  );
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !(existsSync(out) && readResultFile(out).cases.length === 2)) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  await new Promise((r) => child.on('exit', r));
  expect(readResultFile(out).cases).toHaveLength(2);
  return out;
}

const pagesOf = (path: string) => Math.ceil(statSync(path).size / 4096) * 4;

describe('a full disk or a read-only mount loses nothing', () => {
  onDisk('a new run whose disk fills after its first case: exit 2, one line, the case kept in a rescue file that resumes', () => {
    const rescue = tmp();
    // room for the file before any case, not for one holding 2000 samples
    const r = onSmallDisk(12, `"$NODE" "$CLI" ${TWO.join(' ')} --min-samples 2000 --out "$DISK/r.json"`, {
      ...fakeScript({ latenciesMs: [0.01] }),
      TMPDIR: rescue,
    });
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    const last = lines[lines.length - 1];
    expect(last).toMatch(
      /^moebench: cannot write result file .*r\.json: ENOSPC \(the disk is full\); the file there, if any, is unchanged; the 1 case\(s\) measured so far are kept in .*moebench-rescued-\d+-r\.json: continue with moebench run --resume /,
    );
    // what is left on the disk reads back (the file before the case), no temporary file beside it
    expect(readResultFile(join(r.after, 'r.json')).cases).toHaveLength(0);
    expect(readdirSync(r.after).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const rescued = join(
      rescue,
      readdirSync(rescue).find((f) => f.startsWith('moebench-rescued-'))!,
    );
    expect(readResultFile(rescued).cases.map((c) => c.id)).toEqual(['tiny/dense/decode/t4/fp32']);
    const resumed = moebench(['run', '--resume', rescued], fakeScript({ latenciesMs: [0.01] }));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readResultFile(rescued).cases).toHaveLength(2);
  });

  onDisk('--resume of a good file on a nearly full disk: the file stays as it was, the new case is rescued', async () => {
    const partial = await partialRun();
    const before = readFileSync(partial);
    const rescue = tmp();
    const r = onSmallDisk(pagesOf(partial) + 8, `cp "${partial}" "$DISK/r.json" && "$NODE" "$CLI" run --resume "$DISK/r.json"`, {
      ...fakeScript({ latenciesMs: [0.01] }),
      TMPDIR: rescue,
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/cannot write result file .*r\.json: ENOSPC .*the 3 case\(s\) measured so far are kept in .*moebench-rescued-/);
    expect(readFileSync(join(r.after, 'r.json'))).toEqual(before);
    const rescued = join(
      rescue,
      readdirSync(rescue).find((f) => f.startsWith('moebench-rescued-'))!,
    );
    expect(readResultFile(rescued).cases).toHaveLength(3);
  });

  onDisk('--resume of a file on a read-only mount: refused before measuring, the file unchanged', async () => {
    const partial = await partialRun();
    const r = onSmallDisk(
      pagesOf(partial) + 64,
      `cp "${partial}" "$DISK/r.json" && mount -o remount,ro "$DISK" && "$NODE" "$CLI" run --resume "$DISK/r.json"`,
      fakeScript({ latenciesMs: [0.01] }),
    );
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^moebench: cannot write result file .*r\.json: EROFS \(read-only file system\); the file there, if any, is unchanged$/,
    );
    expect(readFileSync(join(r.after, 'r.json'))).toEqual(readFileSync(partial));
  });

  onDisk('merge --out and report --out on a full disk: exit 2, no file left, nothing truncated', () => {
    const r = onSmallDisk(
      8,
      `head -c 8192 /dev/zero > "$DISK/filler" 2>/dev/null
"$NODE" "$CLI" merge "${FIXTURE}" --out "$DISK/c.json"; echo "merge $?"
"$NODE" "$CLI" report "${FIXTURE}" --out "$DISK/r.html"; echo "report $?"`,
    );
    expect(r.stdout).toContain('merge 2');
    expect(r.stdout).toContain('report 2');
    expect(r.stderr).toMatch(/cannot write collection .*c\.json: ENOSPC \(the disk is full\)/);
    expect(r.stderr).toMatch(/cannot write report .*r\.html: ENOSPC \(the disk is full\)/);
    expect(readdirSync(r.after)).toEqual(['filler']);
  });
});

describe('two runs, one file', () => {
  it('a second run given the --out of one in progress is refused, with or without --force; the first finishes whole', async () => {
    const dir = tmp();
    const out = join(dir, 'r.json');
    const first = spawn(process.execPath, [CLI, ...TWO, '--min-time-ms', '1500', '--max-time-ms', '1500', '--out', out], {
      env: { ...process.env, ...fakeScript({ latenciesMs: [1] }) },
      stdio: 'ignore',
      cwd: WORKDIR,
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !existsSync(out)) await new Promise((r) => setTimeout(r, 20));
    for (const extra of [[], ['--force']]) {
      const second = moebench([...ONE, '--out', out, ...extra], fakeScript({ latenciesMs: [1] }));
      expect(second.status).toBe(2);
      expect(second.stderr).toMatch(
        /r\.json is being written by moebench process \d+ on .*: two runs cannot write one file; wait for it to end or choose another --out/,
      );
    }
    expect(await new Promise((r) => first.on('exit', r))).toBe(0);
    expect(readResultFile(out).cases.map((c) => c.id)).toEqual(['tiny/dense/decode/t4/fp32', 'tiny/moe/decode/t4/fp32/e8k2/routed/uniform']);
    expect(readdirSync(dir)).toEqual(['r.json']);
  });

  it('two runs started together with one --out: one writes it, the other is refused; the file holds one whole run', async () => {
    const out = join(tmp(), 'r.json');
    const start = () =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, ...ONE, '--out', out], {
          env: { ...process.env, ...fakeScript({ latenciesMs: [1] }) },
          cwd: WORKDIR,
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    const results = await Promise.all([start(), start()]);
    expect(results.map((r) => r.code).sort()).toEqual([0, 2]);
    expect(results.find((r) => r.code === 2)!.stderr).toMatch(
      /r\.json (is being written by moebench process|already exists: a new run never overwrites)/,
    );
    expect(readResultFile(out).cases).toHaveLength(1);
  });

  it('a lock left by a run killed with SIGKILL (its process gone) is taken over', () => {
    const out = join(tmp(), 'r.json');
    const gone = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(`${out}.lock`, `${gone} ${hostname()} 2026-11-24T00:00:00.000Z\n`);
    const r = moebench([...ONE, '--out', out], fakeScript({ latenciesMs: [1] }));
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(`${out}.lock`)).toBe(false);
  });
});

describe('the model cache is verified by content', () => {
  const TINY = tinyRun('ort-cpu', 'dense', 'decode', '4', '--repetitions', '1', '--max-time-ms', '200');
  it.each([
    ['truncated', (p: string) => truncateSync(p, Math.floor(statSync(p).size / 2))],
    ['emptied', (p: string) => truncateSync(p, 0)],
    [
      'partly zeroed',
      (p: string) => {
        const bytes = readFileSync(p);
        bytes.fill(0, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 4096);
        writeFileSync(p, bytes);
      },
    ],
  ])('a %s cached model is rebuilt and the next run passes', (_how, corrupt) => {
    const models = tmp();
    const first = moebench([...TINY, '--model-dir', models, '--out', join(tmp(), 'a.json')]);
    expect(first.status, first.stderr).toBe(0);
    const model = join(
      models,
      readdirSync(models).find((f) => f.endsWith('.onnx'))!,
    );
    const good = readFileSync(model);
    corrupt(model);
    const out = join(tmp(), 'b.json');
    const second = moebench([...TINY, '--model-dir', models, '--out', out]);
    expect(second.status, second.stderr).toBe(0);
    const [c] = readResultFile(out).cases;
    expect(['ok', 'noisy']).toContain(c.status);
    expect(c.correctness?.passed).toBe(true);
    expect(readFileSync(model)).toEqual(good);
  });

  onDisk('a model written on a full disk is not left truncated: after space is freed the next run builds it whole', () => {
    const r = onSmallDisk(
      64,
      `head -c 57344 /dev/zero > "$DISK/filler" 2>/dev/null
"$NODE" "$CLI" ${TINY.join(' ')} --model-dir "$DISK/models" --out "$AFTER/full.json"; echo "full $?"
rm "$DISK/filler"
"$NODE" "$CLI" ${TINY.join(' ')} --model-dir "$DISK/models" --out "$AFTER/freed.json"; echo "freed $?"`,
    );
    expect(r.stdout).toContain('full 1');
    expect(readResultFile(join(r.after, 'full.json')).cases[0].error).toMatch(/cannot write model .*: ENOSPC \(the disk is full\)/);
    expect(r.stdout).toContain('freed 0');
    expect(readResultFile(join(r.after, 'freed.json')).cases[0].correctness?.passed).toBe(true);
  });
});

describe('limits that protect the machine, said in one line', () => {
  it.each([
    [['--tokens', '1e12'], /routing 1000000000000 tokens × top-2 over 8 experts takes .* GB, more than 25% of this host's/],
    [['--tokens', '1e12', '--layer', 'dense'], /2 case\(s\) need more memory than this host has \(.* GB\): tiny\/dense\/.* needs at least .* GB/],
    [
      ['--experts', '1000000000', '--dry-run'],
      /routing .* over 1000000000 experts takes .* GB, more than 25% of this host's .* of memory: use fewer --tokens or --experts/,
    ],
    [['--threads', '100000'], /--threads 100000 is more than \d+: each intra-op thread reserves its own stack/],
    [['--case-memory-mb', '1'], /--case-memory-mb 1 is less than 64: a case process needs that much V8 heap to start/],
    [['--suite', 'default', '--suite', 'x'], /--suite was given 2 times \(default, x\): give it once/],
    [['--phase', ''], /--phase was given no value \(got ""\): name at least one/],
    [['--tokens', ','], /--tokens was given no value \(got ","\): name at least one/],
  ])('run --preset tiny %j: exit 2, one line, no file left', (args, message) => {
    const out = join(tmp(), 'r.json');
    const r = moebench(['run', '--preset', 'tiny', '--backend', 'fake', '--out', out, ...args], fakeScript({ latenciesMs: [1] }), 60_000);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('more threads than cores is a warning, and the run goes on', () => {
    const r = moebench([...ONE, '--threads', String(availableParallelism() + 1), '--out', join(tmp(), 'r.json')], fakeScript({ latenciesMs: [1] }));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`--threads ${availableParallelism() + 1} is more than this host's ${availableParallelism()} cores`));
  });

  it('--resume with options it would ignore is refused, naming them', () => {
    const path = join(tmp(), 'r.json');
    copyFileSync(FIXTURE, path);
    const r = moebench(['run', '--resume', path, '--repetitions', '3', '--tokens', '64', '--out', join(tmp(), 'other.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /--resume continues .*r\.json with the options recorded in it, so --repetitions, --out, --tokens would be ignored: drop them/,
    );
  });
});

describe('what a reader is told', () => {
  it('size --from an empty folder says only the assumed figures are sized', () => {
    const r = moebench(['size', '--scenario', 'seed', '--from', tmp()]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/no readable result files in .*: only the scenario's assumed figures are sized/);
  });

  it('compare X X --by file: the file was given twice', () => {
    const r = moebench(['compare', FIXTURE, FIXTURE, '--by', 'file']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/fake-run\.json was given twice: a file compared with itself says nothing/);
  });

  it('compare --by nosuchfield: the field is unknown', () => {
    const other = join(tmp(), 'other.json');
    copyFileSync(FIXTURE, other);
    const r = moebench(['compare', FIXTURE, other, '--by', 'nosuchfield']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/--by nosuchfield: no file given has that environment field; use card, file, folder, backend or a field/);
  });
});
