import { UsageError } from '../errors.js';
import type { Clock } from '../measure/clock.js';
import type { Backend } from './backend.js';
import { FakeBackend, fakeScriptFromEnv } from './fake.js';
import { OrtBackend } from './ort.js';
import { PeerBackend } from './peer.js';
import { TfjsBackend } from './tfjs/backend.js';

/**
 * Every engine moebench knows, in the order --backend auto tries them: GPUs first (CUDA, then
 * WebGPU on a hardware adapter), then the CPU engines from fastest to slowest. Kept free of engine
 * imports (backends/names.ts) so the CLI can list them without loading an engine.
 */
export { AUTO_ORDER, BACKEND_NAMES, CPU_ENGINES, PEER_NAMES, type BackendName } from './names.js';
import type { BackendName } from './names.js';

/** Every backend moebench knows, by name; an object built on request, not a global filled by imports. */
export function createBackends(): Record<BackendName, Backend> {
  return {
    'ort-cuda': new OrtBackend('cuda'),
    'ort-webgpu': new OrtBackend('webgpu'),
    'ort-cpu': new OrtBackend('cpu'),
    'tfjs-node-gpu': new TfjsBackend('node-gpu'),
    'tfjs-webgpu': new TfjsBackend('webgpu'),
    'tfjs-node': new TfjsBackend('node'),
    'tfjs-wasm': new TfjsBackend('wasm'),
    'tfjs-cpu': new TfjsBackend('cpu'),
    'torch-cuda': new PeerBackend('torch-cuda'),
    'ort-python-cuda': new PeerBackend('ort-python-cuda'),
    'torch-cpu': new PeerBackend('torch-cpu'),
    'ort-python': new PeerBackend('ort-python'),
    numpy: new PeerBackend('numpy'),
  };
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
  // a peer times its calls itself and reports them: its clock is the one the sampler reads
  return backend instanceof PeerBackend ? { backend, clock: backend.clock } : { backend };
}
