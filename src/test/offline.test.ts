import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResultFile } from '../results/io.js';
import { ROOT } from './helpers/cli.js';

describe('npm run pack:offline: moebench for a box with no network and no Node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-offline-'));
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
      [
        'run',
        '--backend',
        'ort-cpu',
        '--preset',
        'tiny',
        '--layer',
        'dense',
        '--phase',
        'decode',
        '--tokens',
        '4',
        '--max-time-ms',
        '300',
        '--repetitions',
        '1',
        '--out',
        out,
      ],
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
});
