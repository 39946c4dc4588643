import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResultFile } from '../results/io.js';
import { ROOT, smiCard, standInNvidiaSmi, tinyRun } from './helpers/cli.js';

describe('npm run pack:offline: moebench for a box with no network and no Node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-offline-'));
  // the bundle and two unpacked copies of it, about 550 MB
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'moebench.tar.xz');
  // xz's fastest level: the test is about what goes in, not how small it gets
  const pack = spawnSync('bash', [join(ROOT, 'scripts', 'pack-offline.sh'), bundle], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, XZ_OPT: '-0 -T0' },
    timeout: 300_000,
  });
  const box = join(dir, 'box');

  it('packs one .tar.xz', () => {
    expect(pack.status, pack.stderr).toBe(0);
    execFileSync('mkdir', ['-p', box]);
    execFileSync('tar', ['-C', box, '-xJf', bundle]);
    expect(existsSync(join(box, 'moebench', 'moebench'))).toBe(true);
  });

  it('keeps only the linux-x64 native parts', () => {
    const ort = join(box, 'moebench', 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    expect(existsSync(join(ort, 'linux', 'x64', 'onnxruntime_binding.node'))).toBe(true);
    expect(['win32', 'darwin', join('linux', 'arm64')].filter((p) => existsSync(join(ort, p)))).toEqual([]);
  });

  it('runs a case with no node on PATH and records the commit it was packed from', () => {
    const out = join(dir, 'r.json');
    const r = spawnSync(
      join(box, 'moebench', 'moebench'),
      tinyRun('ort-cpu', 'dense', 'decode', '4', '--max-time-ms', '300', '--repetitions', '1', '--out', out),
      { cwd: dir, encoding: 'utf8', env: { PATH: '/nonexistent', HOME: dir }, timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const file = readResultFile(out);
    // a real engine on a shared host may be measured as noisy; what matters here is that it was measured at all
    expect(file.cases).toHaveLength(1);
    const [c] = file.cases;
    expect(['ok', 'noisy']).toContain(c.status);
    expect(c.status === 'ok' || c.status === 'noisy' ? c.throughput.tokensPerSec : 0).toBeGreaterThan(0);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    expect(file.environment.moebench.gitSha).toMatch(new RegExp(`^${head}(-dirty)?$`));
    expect(file.environment.node).toBe(process.version);
  });

  describe('scripts/gpu-session.sh: a sitting on a lent GPU box, step by step, from this bundle', () => {
    const script = join(ROOT, 'scripts', 'gpu-session.sh');
    // nvidia-smi as one H100: its name alone for the script's query, moebench's query line otherwise
    const card = standInNvidiaSmi([
      '[ "$1" = --query-gpu=name ] && { echo "NVIDIA H100 80GB HBM3"; exit 0; }',
      `echo "${smiCard(0, 'NVIDIA H100 80GB HBM3', 'GPU-aaaa')}"`,
    ]);
    const session = (args: string[], env: Record<string, string | undefined>) =>
      spawnSync('bash', [script, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...card, ...env }, timeout: 600_000 });

    it('default: the default suite on each engine asked for, one file each, named for the card', () => {
      const out = join(dir, 'session');
      const r = session(['default', out], { BUNDLE: bundle, ENGINES: 'fake', WORK: join(dir, 'work') });
      expect(r.status, r.stderr).toBe(0);
      const files = readdirSync(out).filter((f) => f.endsWith('.json'));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\dZ-h100-80gb-hbm3-default-fake\.json$/);
      const file = readResultFile(join(out, files[0]));
      expect(file.cases.map((c) => c.id)).toEqual([
        'small/dense/prefill/t256/fp32',
        'small/dense/decode/t16/fp32',
        'small/moe/prefill/t256/fp32/e16k2/routed/uniform',
        'small/moe/decode/t16/fp32/e16k2/routed/uniform',
        'small/attention/decode/t16/fp32/ctx1024',
      ]);
      // measured with the three processes a case the issue asks for, by the bundle's moebench
      expect(file.cases.map((c) => c.repetitions?.length)).toEqual([3, 3, 3, 3, 3]);
      expect(file.environment.commandLine.join(' ')).toMatch(
        /\/work\/moebench\/dist\/src\/cli\.js run --suite default --backend fake --repetitions 3/,
      );
    });

    it('sitting with SITTING_PARTS=deepseek: that part alone, its suite prepared first, every file in one tar', () => {
      const out = join(dir, 'sitting');
      const suite = join(dir, 'core.json');
      writeFileSync(
        suite,
        JSON.stringify({
          name: 'core',
          description: 'two tiny cases for the sitting step',
          cases: [
            { preset: 'tiny', layer: 'moe', phase: 'prefill', tokens: [32], dtype: ['fp32'], moeImpl: 'routed' },
            { preset: 'tiny', layer: 'dense', phase: 'decode', tokens: [8], dtype: ['fp32'] },
          ],
        }),
      );
      const r = session(['sitting', out], {
        // the suite named as the docs name it, relative to the repository root the step starts in
        ...{ BUNDLE: bundle, WORK: join(dir, 'work'), SITTING_PARTS: 'deepseek', SITTING_SUITE: relative(ROOT, suite) },
        ...{ SITTING_DEEPSEEK: 'fake', SITTING_S: '60' },
      });
      expect(r.status, r.stderr).toBe(0);
      const [tarball] = readdirSync(out);
      expect(tarball).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\dZ-h100-80gb-hbm3-sitting\.tar$/);
      const names = execFileSync('tar', ['-tf', join(out, tarball)], { encoding: 'utf8' })
        .split('\n')
        .map((n) => n.replace(/^\.\/(\S+-h100-80gb-hbm3-)?/, ''))
        .filter(Boolean)
        .sort();
      // no check, no default suite: the part asked for, the box's Vulkan notes and the preparation's log
      // the part's files named for its suite ("core")
      expect(names).toEqual(['box.txt', 'core-fake.json', 'core.log', 'prepare.log']);
      execFileSync('tar', ['-xf', join(out, tarball), '-C', out]);
      // an unpacked file by the name the list above gives it, without its stamp and card
      const unpacked = (name: string) =>
        join(
          out,
          readdirSync(out).find((f) => f.endsWith(`-${name}`))!,
        );
      // the box's CPU and memory layout beside its Vulkan notes: the CPUs the sitting's processes may use
      const box = readFileSync(unpacked('box.txt'), 'utf8');
      expect(box).toMatch(/^Cpus_allowed_list:\s+\d/m);
      expect(box).toMatch(/^CPU\(s\):\s+\d/m);
      const file = readResultFile(unpacked('core-fake.json'));
      expect(file.cases.map((c) => c.id)).toEqual(['tiny/moe/prefill/t32/fp32/e8k2/routed/uniform', 'tiny/dense/decode/t8/fp32']);
      // the only engine of the part gets all that is left, and stops its processes within it
      expect(file.environment.commandLine.join(' ')).toMatch(/--backend fake --repetitions 3 .*--time-budget-s \d+/);
      // landed here as the tar came back: the result file into results/, the rest beside it
      const results = join(dir, 'landed');
      const landed = spawnSync('bash', [script, 'land', join(out, tarball), results], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(landed.status, landed.stderr).toBe(0);
      const stampCard = tarball.replace(/-sitting\.tar$/, '');
      const folder = `${stampCard.slice(0, 10)}-h100-80gb-hbm3-sitting`;
      expect(readdirSync(results).sort()).toEqual([`${stampCard}-core-fake.json`, folder].sort());
      expect(readdirSync(join(results, folder)).sort()).toEqual(['box.txt', 'core.log', 'prepare.log'].map((f) => `${stampCard}-${f}`));
      expect(readFileSync(join(results, `${stampCard}-core-fake.json`), 'utf8')).toBe(readFileSync(unpacked('core-fake.json'), 'utf8'));
    });

    it('says what is missing in one line, or how it is used', () => {
      const none = session(['check', join(dir, 'none')], { BUNDLE: join(dir, 'nope.tar.xz') });
      expect(none.status).toBe(2);
      expect(none.stderr).toContain(`gpu-session: no ${join(dir, 'nope.tar.xz')}: run 'bash scripts/gpu-session.sh prepare' here and carry it`);
      const bad = session(['bogus'], {});
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/STEP {2}check/);
    });
  });
});
