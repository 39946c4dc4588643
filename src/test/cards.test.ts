import { describe, expect, it } from 'vitest';
import { chooseCard, onHostCpu, perCardSchedule, visibleCards } from '../env/cards.js';
import { parseNvidiaSmi } from '../env/gpus.js';
import { describeDevice } from '../env/machine.js';
import { summarizeGpuReadings } from '../env/gpuMonitor.js';
import { readResultFile } from '../results/io.js';
import { caseTable } from '../report/table.js';
import { throttled } from '../results/throttling.js';
import { join } from 'node:path';
import { createBackends } from '../backends/registry.js';
import type { Backend } from '../backends/backend.js';

const gpus = parseNvidiaSmi(`0, NVIDIA H100 80GB HBM3, GPU-aaaa-1111, 81559 MiB, 550.54.15, 1980 MHz, 1980 MHz, 700.00 W, 35
1, NVIDIA H100 80GB HBM3, GPU-bbbb-2222, 81559 MiB, 550.54.15, 1980 MHz, 1980 MHz, 700.00 W, 36
2, NVIDIA H100 80GB HBM3, GPU-cccc-3333, 81559 MiB, 550.54.15, 1980 MHz, 1980 MHz, 700.00 W, 37`);
const indices = (cards: ReturnType<typeof visibleCards>) => cards?.map((g) => g.index);

describe('parseNvidiaSmi', () => {
  it('keeps only lines that are cards: an error message or a line without an index is none (its NaN index would be written as null)', () => {
    const parsed = parseNvidiaSmi(
      'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.\nGPU-aaaa, NVIDIA H100 80GB HBM3, GPU-aaaa, 81559 MiB\n3, NVIDIA H200, GPU-dddd, 143771 MiB, 550.54.15, 1980 MHz, 1980 MHz, 700.00 W, 30',
    );
    expect(parsed.map((g) => [g.index, g.name, g.uuid])).toEqual([[3, 'NVIDIA H200', 'GPU-dddd']]);
  });
});

describe("visibleCards: what CUDA_VISIBLE_DEVICES leaves of nvidia-smi's list", () => {
  it('unset: every card', () => {
    expect(indices(visibleCards(gpus, undefined))).toEqual([0, 1, 2]);
  });
  it('indices, in the order given', () => {
    expect(indices(visibleCards(gpus, '2,0'))).toEqual([2, 0]);
  });
  it('UUIDs and unique UUID prefixes', () => {
    expect(indices(visibleCards(gpus, 'GPU-cccc-3333, GPU-bb'))).toEqual([2, 1]);
  });
  it('ends at the first entry that names no card, as CUDA does', () => {
    expect(indices(visibleCards(gpus, '1,7,2'))).toEqual([1]);
  });
  it('empty: no card', () => {
    expect(visibleCards(gpus, '')).toEqual([]);
  });
  it('MIG devices cannot be mapped to cards', () => {
    expect(visibleCards(gpus, 'MIG-4b1e-0c2d')).toBeUndefined();
  });
});

describe('onHostCpu: work that runs on the host CPU, whatever cards the host has', () => {
  it('a CPU engine, and WebGPU on a software Vulkan driver; never a CUDA engine or WebGPU on a card', () => {
    const card = {};
    const lavapipe = { VK_ICD_FILENAMES: '/opt/mesa/lvp_icd.x86_64.json' };
    expect(onHostCpu('host', card)).toBe(true);
    expect(onHostCpu('cuda', card)).toBe(false);
    expect(onHostCpu('cuda', lavapipe)).toBe(false);
    expect(onHostCpu('webgpu', card)).toBe(false);
    expect(onHostCpu('webgpu', { VK_ICD_FILENAMES: '/usr/share/vulkan/icd.d/nvidia_icd.json' })).toBe(false);
    expect(onHostCpu('webgpu', lavapipe)).toBe(true);
    expect(onHostCpu('webgpu', { VK_DRIVER_FILES: '/x/lavapipe/icd.json' })).toBe(true);
  });
});

describe('chooseCard', () => {
  it('pins a CUDA engine to the requested card by UUID and hands it device 0', () => {
    expect(chooseCard('ort-cuda', 'cuda', 2, gpus, gpus)).toEqual({
      card: gpus[2],
      workerEnv: { CUDA_VISIBLE_DEVICES: 'GPU-cccc-3333' },
      deviceId: 0,
    });
  });
  it('without --device takes the first card CUDA may use', () => {
    expect(chooseCard('ort-cuda', 'cuda', undefined, gpus, visibleCards(gpus, '1,2'), '1,2').card).toBe(gpus[1]);
  });
  it('refuses a card that is not there', () => {
    expect(() => chooseCard('ort-cuda', 'cuda', 5, gpus, gpus)).toThrow("no GPU 5: the cards are 0, 1, 2 (--device takes nvidia-smi's index)");
  });
  it('refuses a card CUDA_VISIBLE_DEVICES hides, and says so', () => {
    expect(() => chooseCard('ort-cuda', 'cuda', 0, gpus, visibleCards(gpus, '1'), '1')).toThrow(
      "no GPU 0: the cards are 1 (CUDA_VISIBLE_DEVICES=1 hides the others) (--device takes nvidia-smi's index)",
    );
  });
  it('refuses to run when CUDA_VISIBLE_DEVICES hides every card', () => {
    expect(() => chooseCard('ort-cuda', 'cuda', undefined, gpus, [], '')).toThrow(
      'no GPU visible: CUDA_VISIBLE_DEVICES= hides all 3 cards nvidia-smi lists',
    );
  });
  it('without nvidia-smi passes --device to CUDA unchanged and names no card', () => {
    expect(chooseCard('ort-cuda', 'cuda', 3, [], [])).toEqual({ workerEnv: {}, deviceId: 3 });
  });
  it("with MIG devices leaves CUDA's numbering alone", () => {
    expect(chooseCard('ort-cuda', 'cuda', 1, gpus, undefined, 'MIG-4b1e')).toEqual({ workerEnv: {}, deviceId: 1 });
  });
  it('refuses to point a WebGPU engine at one of several cards', () => {
    expect(() => chooseCard('ort-webgpu', 'webgpu', 1, gpus, gpus)).toThrow(
      'ort-webgpu runs on the adapter Dawn picks and cannot be pointed at card 1 of the 3 nvidia-smi lists: use ort-cuda or tfjs-node-gpu to choose a card, or leave out --device',
    );
  });
  it('names no card for a WebGPU engine among several, and the only card when there is one', () => {
    expect(chooseCard('ort-webgpu', 'webgpu', undefined, gpus, gpus).card).toBeUndefined();
    expect(chooseCard('tfjs-webgpu', 'webgpu', 0, gpus.slice(0, 1), gpus.slice(0, 1)).card).toBe(gpus[0]);
  });
  it('a host engine runs on the CPU whatever the cards', () => {
    expect(chooseCard('ort-cpu', 'host', 2, gpus, gpus)).toEqual({ workerEnv: {}, deviceId: 0 });
  });
});

describe('perCardSchedule: --device all in parallel only with a core per card', () => {
  it('shares the host cores out among the cards', () => {
    expect(perCardSchedule(8, 64, undefined)).toEqual({
      parallel: true,
      threadsPerCard: 8,
      why: 'in parallel: each pinned to its card, 8 ORT thread(s) each of 64 host cores',
    });
  });
  it('keeps --threads when given', () => {
    expect(perCardSchedule(2, 16, 3).threadsPerCard).toBe(3);
  });
  it('runs one card after another when the host has fewer cores than cards', () => {
    expect(perCardSchedule(8, 4, undefined)).toEqual({
      parallel: false,
      threadsPerCard: undefined,
      why: 'one after another: 8 cards but 4 host cores, and processes in parallel would compete for the CPU that feeds the cards',
    });
  });
});

describe('describeDevice: the card a result names', () => {
  const backends: Record<string, Backend> = createBackends();
  it.each(['ort-cpu', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu'])('%s on a GPU box is the host CPU', (name) => {
    const b = backends[name];
    expect(describeDevice(b.placement, chooseCard(name, b.placement, undefined, gpus, gpus), gpus)).toMatch(/^cpu \(.+, \d+ cores, \d+ GiB\)$/);
  });
  it.each(['ort-cuda', 'tfjs-node-gpu'])('%s names the card it is pinned to', (name) => {
    const b = backends[name];
    expect(describeDevice(b.placement, chooseCard(name, b.placement, 1, gpus, gpus), gpus)).toBe('gpu:1 (NVIDIA H100 80GB HBM3)');
  });
});

describe('the card read through the timed calls', () => {
  it('summarises nvidia-smi -lms lines (csv, no units) exactly', () => {
    expect(summarizeGpuReadings('1980, 41\n1755, 63\n1980, 62\n')).toEqual({
      readings: 3,
      smClockMHz: { min: 1755, median: 1980, max: 1980 },
      temperatureC: { max: 63 },
    });
  });
  it('ignores what is not a reading, and has nothing to say without one', () => {
    expect(summarizeGpuReadings('[N/A], [N/A]\n1980, 40\n')!.readings).toBe(1);
    expect(summarizeGpuReadings('')).toBeUndefined();
  });
  it('the run table names a case whose card clocked under 90% of its maximum during the calls', () => {
    const [c] = readResultFile(join(import.meta.dirname, 'fixtures', 'fake-run.json')).cases;
    const hot = {
      ...c,
      gpuAfter: gpus[0],
      gpuDuring: { readings: 8, smClockMHz: { min: 1410, median: 1755, max: 1980 }, temperatureC: { max: 87 } },
    };
    // the note as written, before it was wrapped to the terminal
    expect(caseTable([hot]).replace(/\n {4}/g, ' ')).toContain(
      `${c.id}: the card ran at 1755 MHz during the timed calls (median of 8 readings, lowest 1410), under 90% of its 1980 MHz maximum: throttled (temperature up to 87 C)`,
    );
    expect(caseTable([{ ...hot, gpuDuring: { ...hot.gpuDuring, smClockMHz: { min: 1900, median: 1980, max: 1980 } } }])).not.toContain('throttled');
  });
  it('an idle clock read before the first call is not throttling (an H200, 2026-12-04)', () => {
    // what the first H200 sitting recorded for ORT WebGPU's dense decode case: the monitor's first
    // reading came while the card still idled after the model load, every later one at 1980 MHz
    const [c] = readResultFile(join(import.meta.dirname, 'fixtures', 'fake-run.json')).cases;
    const h200 = { ...gpus[0], name: 'NVIDIA H200', smClockMHz: 1980, maxSmClockMHz: 1980, temperatureC: 45 };
    const ramp = { ...c, gpuBefore: { ...h200, smClockMHz: 345 }, gpuAfter: h200 };
    const idleFirst = { ...ramp, gpuDuring: { readings: 40, smClockMHz: { min: 345, median: 1980, max: 1980 }, temperatureC: { max: 45 } } };
    expect(throttled(idleFirst)).toBe(false);
    expect(caseTable([idleFirst])).not.toContain('throttled');
    // half the window at 1500 MHz or below is throttling, whatever the first reading was
    const held = { ...ramp, gpuDuring: { readings: 40, smClockMHz: { min: 345, median: 1500, max: 1980 }, temperatureC: { max: 88 } } };
    expect(throttled(held)).toBe(true);
    // without readings through the calls, the one right after them decides
    expect(throttled({ ...ramp, gpuDuring: undefined, gpuAfter: { ...h200, smClockMHz: 1700 } })).toBe(true);
    expect(throttled({ ...ramp, gpuDuring: undefined })).toBe(false);
  });
});
