import { UsageError } from '../errors.js';
import type { Clock } from '../measure/clock.js';
import type { Backend, Probe } from './backend.js';
import { FakeBackend, fakeScriptFromEnv } from './fake.js';
import { OrtBackend } from './ort.js';

/** Every backend moebench knows, by name; an object built on request, not a global filled by imports. */
export function createBackends(): Record<string, Backend> {
  return {
    'ort-cuda': new OrtBackend('cuda'),
    'ort-webgpu': new OrtBackend('webgpu'),
    'ort-cpu': new OrtBackend('cpu'),
  };
}

/** Order in which --backend auto tries them: CUDA, then WebGPU on a hardware adapter, then the CPU. */
export const AUTO_ORDER = ['ort-cuda', 'ort-webgpu', 'ort-cpu'];

export interface Resolved {
  backend: Backend;
  clock?: Clock;
  /** For auto: why each better backend was passed over. */
  skipped: { name: string; reason: string }[];
}

export async function resolveBackend(name: string, backends: Record<string, Backend> = createBackends()): Promise<Resolved> {
  if (name === 'fake') {
    const fake = new FakeBackend(fakeScriptFromEnv());
    return { backend: fake, clock: fake.clock, skipped: [] };
  }
  if (name === 'auto') {
    const skipped: Resolved['skipped'] = [];
    for (const candidate of AUTO_ORDER) {
      const probe = await backends[candidate].probe();
      if (probe.available && (probe.hardware || candidate === 'ort-cpu')) return { backend: backends[candidate], skipped };
      skipped.push({ name: candidate, reason: probe.available ? 'software adapter only' : probe.reason });
    }
    throw new UsageError(`no backend available: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  }
  const backend = backends[name];
  if (!backend) throw new UsageError(`unknown backend "${name}": use auto, ${Object.keys(backends).join(', ')}`);
  const probe: Probe = await backend.probe();
  if (!probe.available) throw new UsageError(`backend ${name} is unavailable: ${probe.reason}. Fix: ${probe.fix}`);
  return { backend, skipped: [] };
}
