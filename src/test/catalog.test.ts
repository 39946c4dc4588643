import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, moebench } from './helpers/cli.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('the CLI says what it is and what it has', () => {
  it.each([['--version'], ['-V']])('%s prints the version', (flag) => {
    const r = moebench([flag]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('-h lists every command, presets and suites included', () => {
    const r = moebench(['-h']);
    expect(r.status).toBe(0);
    for (const command of ['run', 'size', 'compare', 'merge', 'show', 'repair', 'report', 'env', 'presets', 'suites'])
      expect(r.stdout).toMatch(new RegExp(`moebench ${command}\\b`));
  });

  it('moebench presets: shapes, layer counts, experts, parameters and work per token, one row each', () => {
    const r = moebench(['presets']);
    expect(r.status).toBe(0);
    // DeepSeek-V3: 3 dense + 58 MoE layers, hidden 7168, 256 experts top-8 with 1 shared, 671 B / 37.0 B, 2 × 37e9 FLOPs
    expect(r.stdout).toMatch(/deepseek-v3\s+3 \+ 58\s+7168\s+dense 18432, expert 2048\s+256 \(8, 1\)\s+671 B\s+37\.0 B\s+74\b/);
    expect(r.stdout).toMatch(/mixtral-8x7b\s+0 \+ 32\s+4096\s+expert 14336\s+8 \(2, 0\)/);
    // the roofline probe: no layers of a model, 8 products of 4096², 2 × 8 × 4096² FLOPs a token
    expect(r.stdout).toMatch(/roofline\s+-\s+4096\s+8 × matmul 4096²\s+-\s+-\s+-\s+0\.268$/m);
    // the table and the descriptions under it, wrapped to a 120-column terminal
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(r.stdout).toMatch(/^deepseek-v3: DeepSeek-V3\/R1: 671B parameters/m);
  });

  it('moebench suites: each suite with its planned cases, processes per case and budget', () => {
    const r = moebench(['suites']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    // the first look first: 5 cases (small dense and MoE, prefill and decode; attention decode), 3 processes, 30 s
    expect(lines[2]).toMatch(/^default\s+5\s+3\s+30 s\s+auto$/);
    expect(r.stdout).toMatch(/deepseek-v3\s+\d+\s+3\s+none \(runs until each case converges\)/);
    expect(r.stdout).toMatch(/^default: A first look \(npm start\)/m);
    expect(r.stdout).toMatch(/^roofline\s+2\s+3\s+120 s\s+auto$/m);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    // a description's second line is indented under its name
    expect(r.stdout).toMatch(/^default: A first look .*\n {2}\S/m);
  });
});
