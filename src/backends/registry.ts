import { UsageError } from '../errors.js';
import type { Clock } from '../measure/clock.js';
import type { Backend, Probe } from './backend.js';
import { FakeBackend, fakeScriptFromEnv } from './fake.js';
import { OrtBackend } from './ort.js';
import { probeBackend } from './probeProcess.js';
import { TfjsBackend } from './tfjs/backend.js';

/** Every backend moebench knows, by name; an object built on request, not a global filled by imports. */
export function createBackends(): Record<string, Backend> {
  return {
    'ort-cuda': new OrtBackend('cuda'),
    'ort-webgpu': new OrtBackend('webgpu'),
    'ort-cpu': new OrtBackend('cpu'),
    'tfjs-node-gpu': new TfjsBackend('node-gpu'),
    'tfjs-webgpu': new TfjsBackend('webgpu'),
    'tfjs-node': new TfjsBackend('node'),
    'tfjs-wasm': new TfjsBackend('wasm'),
    'tfjs-cpu': new TfjsBackend('cpu'),
  };
}

/**
 * Order in which --backend auto tries them: GPUs first (CUDA, then WebGPU on a hardware
 * adapter), then the CPU engines from fastest to slowest. A software WebGPU adapter is never picked.
 */
export const AUTO_ORDER = ['ort-cuda', 'tfjs-node-gpu', 'ort-webgpu', 'tfjs-webgpu', 'ort-cpu', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu'];
const CPU_ENGINES = new Set(['ort-cpu', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu']);

export interface Resolved {
  backend: Backend;
  clock?: Clock;
  /** For auto: why each better backend was passed over. */
  skipped: { name: string; reason: string }[];
}

/**
 * A backend by its exact name, without probing: for a case worker, whose parent has
 * already probed it. The fake comes with its own clock.
 */
export function backendByName(name: string, backends: Record<string, Backend> = createBackends()): { backend: Backend; clock?: Clock } {
  if (name === 'fake') {
    const fake = new FakeBackend(fakeScriptFromEnv());
    return { backend: fake, clock: fake.clock };
  }
  const backend = backends[name];
  if (!backend) throw new UsageError(`unknown backend "${name}": use auto, all-available, ${Object.keys(backends).join(', ')}`);
  return { backend };
}

export async function resolveBackend(name: string, backends: Record<string, Backend> = createBackends()): Promise<Resolved> {
  if (name === 'fake') return { ...backendByName(name), skipped: [] };
  if (name === 'auto') {
    const skipped: Resolved['skipped'] = [];
    for (const candidate of AUTO_ORDER) {
      const probe = await probeBackend(backends[candidate]);
      if (probe.available && (probe.hardware || CPU_ENGINES.has(candidate))) return { backend: backends[candidate], skipped };
      skipped.push({ name: candidate, reason: probe.available ? 'software adapter only' : probe.reason });
    }
    throw new UsageError(`no backend available: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  }
  const { backend } = backendByName(name, backends);
  const probe: Probe = await probeBackend(backend);
  if (!probe.available) throw new UsageError(`backend ${name} is unavailable: ${probe.reason}. Fix: ${probe.fix}`);
  return { backend, skipped: [] };
}

/** --backend all-available: every backend that probes available here, in AUTO_ORDER; the rest with their reasons. */
export async function availableBackends(backends: Record<string, Backend> = createBackends()): Promise<{ available: Backend[]; unavailable: { name: string; reason: string }[] }> {
  const available: Backend[] = [];
  const unavailable: { name: string; reason: string }[] = [];
  for (const name of AUTO_ORDER) {
    const probe = await probeBackend(backends[name]);
    if (probe.available) available.push(backends[name]);
    else unavailable.push({ name, reason: probe.reason });
  }
  return { available, unavailable };
}
