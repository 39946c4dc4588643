/**
 * The backends' names, in the order --backend auto tries them: GPUs first (CUDA, then WebGPU on a
 * hardware adapter), then the CPU engines from fastest to slowest. A software WebGPU adapter is
 * never picked. registry.ts builds one backend for each (its type makes it list every name).
 */
export const BACKEND_NAMES = [
  'ort-cuda',
  'tfjs-node-gpu',
  'ort-webgpu',
  'tfjs-webgpu',
  'ort-cpu',
  'tfjs-node',
  'tfjs-wasm',
  'tfjs-cpu',
  'torch-cuda',
  'ort-python-cuda',
  'torch-cpu',
  'ort-python',
  'numpy',
] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** Peer engines (python/peer.py): a reference point beside moebench's engines, never picked by auto; all-available runs them. */
export const PEER_NAMES: ReadonlySet<string> = new Set<BackendName>(['torch-cuda', 'ort-python-cuda', 'torch-cpu', 'ort-python', 'numpy']);
export const AUTO_ORDER: readonly BackendName[] = BACKEND_NAMES.filter((n) => !PEER_NAMES.has(n));
export const CPU_ENGINES: ReadonlySet<string> = new Set<BackendName>(['ort-cpu', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu']);
/** What --backend takes besides an engine's name. */
export const BACKEND_CHOICES = ['auto', 'all-available', ...BACKEND_NAMES] as const;
