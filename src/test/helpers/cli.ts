import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');

/** Environment that selects the project-local Mesa lavapipe for WebGPU (see scripts/setup-lavapipe.sh). */
export function lavapipeEnv(): Record<string, string> | undefined {
  const dir = join(ROOT, '.cache', 'lavapipe');
  if (!existsSync(join(dir, 'icd.json'))) return undefined;
  return {
    VK_ICD_FILENAMES: join(dir, 'icd.json'),
    LD_LIBRARY_PATH: [join(dir, 'root', 'usr', 'lib', 'x86_64-linux-gnu'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  };
}

/** A working folder of the test run's own, so default results/ and models/ never land in the checkout. */
export const WORKDIR = mkdtempSync(join(tmpdir(), 'moebench-cwd-'));

/** Runs the built CLI as a user would; the tests assert on exit code, stdout, stderr and files. */
export function moebench(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 110_000): SpawnSyncReturns<string> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: timeoutMs, cwd: WORKDIR });
}

/** Environment that scripts the fake backend's latencies, devices and failures (src/backends/fake.ts). */
export const fakeScript = (script: object): Record<string, string> => ({ MOEBENCH_FAKE_SCRIPT: JSON.stringify(script) });

/** A one-case `moebench run` of the tiny preset: its LAYER in PHASE at TOKENS on BACKEND, with more options after. */
export const tinyRun = (backend: string, layer: string, phase: string, tokens: string, ...more: string[]): string[] => [
  'run',
  '--backend',
  backend,
  '--preset',
  'tiny',
  '--layer',
  layer,
  '--phase',
  phase,
  '--tokens',
  tokens,
  ...more,
];

/** The smallest real `moebench run`: one tiny dense decode case of 4 tokens on the fake backend. */
export const TINY_FAKE_RUN: readonly string[] = tinyRun('fake', 'dense', 'decode', '4');

/** TINY_FAKE_RUN at other token counts, with more options after: tinyFakeRun('8', '--repetitions', '3'). */
export const tinyFakeRun = (tokens: string, ...more: string[]): string[] => tinyRun('fake', 'dense', 'decode', tokens, ...more);

/** A card line as `nvidia-smi --query-gpu=<NVIDIA_SMI_QUERY> --format=csv,noheader` prints it. */
export const smiCard = (index: number | string, name: string, uuid: string, smMHz = 1980, temperatureC = 35): string =>
  `${index}, ${name}, ${uuid}, 81559 MiB, 550.54.15, ${smMHz} MHz, 1980 MHz, 700.00 W, ${temperatureC}`;

/**
 * A stand-in nvidia-smi on PATH: `body` (shell lines) prints the cards; with -lms it reads the card
 * in a loop, as nvidia-smi does, until it is stopped. CUDA_VISIBLE_DEVICES is unset, so every card shows.
 */
export function standInNvidiaSmi(body: string[]): Record<string, string | undefined> {
  const bin = mkdtempSync(join(tmpdir(), 'moebench-smi-'));
  writeFileSync(
    join(bin, 'nvidia-smi'),
    ['#!/bin/sh', 'case "$*" in *-lms*) while :; do echo "1755, 61"; sleep 0.05; done ;; esac', ...body, ''].join('\n'),
  );
  chmodSync(join(bin, 'nvidia-smi'), 0o755);
  return { PATH: `${bin}:${process.env.PATH}`, CUDA_VISIBLE_DEVICES: undefined };
}
