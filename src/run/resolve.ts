import type { Backend, Probe } from '../backends/backend.js';
import { AUTO_ORDER, backendByName, CPU_ENGINES, createBackends, PEER_NAMES } from '../backends/registry.js';
import type { Clock } from '../measure/clock.js';
import { UsageError } from '../errors.js';
import { probeBackend } from './isolate.js';

export interface Resolved {
  backend: Backend;
  clock?: Clock;
  /** For auto: why each better backend was passed over. */
  skipped: { name: string; reason: string }[];
}

type ProbeFn = (b: Backend) => Promise<Probe>;

/** --backend NAME or auto → one backend that probed available here, or a UsageError saying why none. */
export async function resolveBackend(
  name: string,
  backends: Record<string, Backend> = createBackends(),
  probe: ProbeFn = probeBackend,
): Promise<Resolved> {
  if (name === 'fake') return { ...backendByName(name), skipped: [] };
  if (name === 'auto') {
    const skipped: Resolved['skipped'] = [];
    for (const candidate of AUTO_ORDER) {
      const p = await probe(backends[candidate]);
      if (p.available && (p.hardware || CPU_ENGINES.has(candidate))) return { backend: backends[candidate], skipped };
      skipped.push({ name: candidate, reason: p.available ? 'software adapter only' : p.reason });
    }
    throw new UsageError(`no backend available: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  }
  const { backend } = backendByName(name, backends);
  const p = await probe(backend);
  if (!p.available) throw new UsageError(`backend ${name} is unavailable: ${p.reason}. Fix: ${p.fix}`);
  return { backend, skipped: [] };
}

/** --backend all-available: every backend that probes available here, in AUTO_ORDER, then the peers; the rest with their reasons. */
export async function availableBackends(
  backends: Record<string, Backend> = createBackends(),
  probe: ProbeFn = probeBackend,
): Promise<{ available: Backend[]; unavailable: { name: string; reason: string }[] }> {
  const available: Backend[] = [];
  const unavailable: { name: string; reason: string }[] = [];
  for (const name of [...AUTO_ORDER, ...PEER_NAMES]) {
    const p = await probe(backends[name]);
    if (p.available) available.push(backends[name]);
    else unavailable.push({ name, reason: p.reason });
  }
  return { available, unavailable };
}
