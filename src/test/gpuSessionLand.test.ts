import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResultFile } from '../results/io.js';
import { fakeScript, moebench, ROOT, tinyRun, WORKDIR } from './helpers/cli.js';

// a sitting's tar as gpu-session.sh leaves it on the box: ./STAMP-CARD-<part files>, bench:repeat's
// runs in a tar.xz of their own; the result files in it written by the harness (the fake engine)
describe('gpu-session.sh land: a sitting brought back, into results/', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-land-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const name = '2026-12-05T06-00Z-h100-80gb-hbm3';
  const sitting = join(dir, 'sitting');
  const runs = join(dir, 'runs');
  mkdirSync(sitting);
  mkdirSync(runs);
  const fake = (out: string, run = tinyRun('fake', 'dense', 'decode', '4')) => {
    const r = moebench([...run, '--max-time-ms', '200', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
  };
  const land = (tar: string, results: string) =>
    spawnSync('bash', [join(ROOT, 'scripts', 'gpu-session.sh'), 'land', tar, results], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const files = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(folder, e.name)).map((f) => `${e.name}/${f}`) : [e.name],
    );

  it('result files into results/ unchanged, the rest into DATE-CARD-sitting/, the repeat runs unpacked there', () => {
    // a real model's shape, as the sitting's real-shape suites run: its MoE layer, 8 of 128 experts a card
    fake(join(sitting, `${name}-qwen3-core-fake.json`), [
      ...['run', '--backend', 'fake', '--preset', 'qwen3-30b-a3b', '--layer', 'moe'],
      ...['--phase', 'decode', '--tokens', '4', '--experts-per-card', '8'],
    ]);
    writeFileSync(join(sitting, `${name}-box.txt`), 'CPU(s): 16\n');
    writeFileSync(join(sitting, `${name}-check.json`), '{}\n');
    writeFileSync(join(sitting, `${name}-repeat.txt`), 'bench:repeat on the box\n');
    fake(join(runs, 'run1.json'));
    fake(join(runs, 'run2.json'));
    execFileSync('tar', ['-C', runs, '-cJf', join(sitting, `${name}-repeat-runs.tar.xz`), '.']);
    const tar = join(dir, `${name}-sitting.tar`);
    execFileSync('tar', ['-C', sitting, '-cf', tar, '.']);

    const results = join(dir, 'results');
    const r = land(tar, results);
    expect(r.status, r.stderr).toBe(0);
    const folder = '2026-12-05-h100-80gb-hbm3-sitting';
    expect(files(results).sort()).toEqual(
      [
        `${name}-qwen3-core-fake.json`,
        // bench:repeat's first run, finished: the default suite on its engine, three processes a case
        `${name}-repeat-run1-default-fake.json`,
        `${folder}/${name}-box.txt`,
        `${folder}/${name}-check.json`,
        `${folder}/${name}-repeat.txt`,
        `${folder}/${name}-repeat-runs/run1.json`,
        `${folder}/${name}-repeat-runs/run2.json`,
      ].sort(),
    );
    // byte for byte what the harness wrote
    const same = (a: string, b: string) => expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
    same(join(results, `${name}-qwen3-core-fake.json`), join(sitting, `${name}-qwen3-core-fake.json`));
    same(join(results, `${name}-repeat-run1-default-fake.json`), join(runs, 'run1.json'));
    readResultFile(join(results, `${name}-repeat-run1-default-fake.json`));
    // what to do next: judge the runs, size from the real-shape file
    expect(r.stderr).toContain(`npm run bench:repeat -- --judge ${join(results, folder, `${name}-repeat-runs`)}`);
    expect(r.stderr).toContain(
      `npx moebench size --scenario bench/scenarios/seed.json --from ${join(results, `${name}-qwen3-core-fake.json`)} --model qwen3-30b-a3b`,
    );
    expect(r.stderr).not.toContain('--model tiny');
    expect(r.stderr).toContain(
      `land: each run's table: npx moebench show ${join(results, `${name}-qwen3-core-fake.json`)} ${join(results, `${name}-repeat-run1-default-fake.json`)}\n`,
    );

    // landed twice: refused before anything is copied
    const before = files(results).length;
    const again = land(tar, results);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/land: .*-box\.txt is already there; nothing landed/);
    expect(files(results)).toHaveLength(before);
  });

  it('a first repeat run the sitting stopped is unpacked with the others, and is not taken for the suite', () => {
    const stopped = join(dir, 'stopped');
    mkdirSync(stopped);
    // as SIGTERM leaves a run (the sitting's stop): its decode case measured, its prefill case hanging
    spawnSync(
      process.execPath,
      [
        join(ROOT, 'dist', 'src', 'cli.js'),
        ...tinyRun('fake', 'dense', 'decode,prefill', '4', '--max-time-ms', '200'),
        '--out',
        join(stopped, 'run1.json'),
      ],
      {
        env: { ...process.env, ...fakeScript({ latenciesMs: [0.05], hangCases: ['dense/prefill'] }) },
        cwd: WORKDIR,
        timeout: 10_000,
        killSignal: 'SIGTERM',
      },
    );
    expect(readResultFile(join(stopped, 'run1.json')).environment.endedAt).toBeUndefined();
    const inner = join(dir, 'stopped-sitting');
    mkdirSync(inner);
    execFileSync('tar', ['-C', stopped, '-cJf', join(inner, `${name}-repeat-runs.tar.xz`), '.']);
    const tar = join(dir, 'stopped-tar', `${name}-sitting.tar`);
    mkdirSync(join(dir, 'stopped-tar'));
    execFileSync('tar', ['-C', inner, '-cf', tar, '.']);
    const results = join(dir, 'results-stopped');
    const r = land(tar, results);
    expect(r.status, r.stderr).toBe(0);
    expect(files(results)).toEqual([`2026-12-05-h100-80gb-hbm3-sitting/${name}-repeat-runs/run1.json`]);
  });

  it('says how it is used when not given a sitting tar', () => {
    const r = land(join(dir, 'nope.tar'), join(dir, 'r'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("land: give a sitting's STAMP-CARD-sitting.tar (and RESULTS, default results/)");
    expect(existsSync(join(dir, 'r'))).toBe(false);
  });
});
