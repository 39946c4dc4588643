import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import { noAdapterHelp } from '../../env/vulkan.js';

export type TfjsKind = 'cpu' | 'wasm' | 'webgpu' | 'node' | 'node-gpu';
export type Tf = typeof TfCore;

const require = createRequire(import.meta.url);

/** TF.js's own backend name for each kind. */
const ENGINE_NAME: Record<TfjsKind, string> = { cpu: 'cpu', wasm: 'wasm', webgpu: 'webgpu', node: 'tensorflow', 'node-gpu': 'tensorflow' };

export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU rasteriser (lavapipe/llvmpipe, SwiftShader) or a fallback adapter. */
  software: boolean;
}

/** Why a TF.js backend cannot start, with the command that fixes it. */
export class TfjsUnavailable extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

// install scripts are off in this project (.npmrc), and these packages' install is what downloads libtensorflow
export const NODE_FIX: Record<'node' | 'node-gpu', string> = {
  node: 'on a box with internet: npm install --ignore-scripts=false @tensorflow/tfjs-node@4.22.0 (its install script downloads libtensorflow 2.9.1 for the CPU)',
  'node-gpu':
    'on a box with internet and CUDA 11.2 + cuDNN 8.1 (what libtensorflow 2.9.1 links against): npm install --ignore-scripts=false @tensorflow/tfjs-node-gpu@4.22.0',
};

let webgpuInfo: WebGpuAdapterInfo | undefined;

/** Gives TF.js a WebGPU device in Node through Dawn's binding (the `webgpu` package), once per process. */
async function installDawn(): Promise<WebGpuAdapterInfo> {
  if (webgpuInfo) return webgpuInfo;
  const { create, globals } = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    const { why, fix } = noAdapterHelp();
    throw new TfjsUnavailable(`Dawn found no WebGPU adapter${why ? `: ${why}` : ''}`, fix);
  }
  const info = adapter.info;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const fallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  webgpuInfo = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: fallback || /llvmpipe|lavapipe|swiftshader|software/i.test(text),
  };
  return webgpuInfo;
}

/** Imports tfjs-core and the backend's package (guarded for the optional ones) and makes it active. */
export async function activateTfjs(kind: TfjsKind): Promise<{ tf: Tf; adapter?: WebGpuAdapterInfo; version: string }> {
  let adapter: WebGpuAdapterInfo | undefined;
  if (kind === 'node' || kind === 'node-gpu') {
    const pkg = kind === 'node' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu';
    try {
      await import(pkg);
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
      throw new TfjsUnavailable(
        missing
          ? `${pkg} is not installed (not a dependency of moebench: its install downloads libtensorflow, which an offline install cannot)`
          : `${pkg} failed to load: ${(err as Error).message.split('\n')[0]}`,
        NODE_FIX[kind],
      );
    }
  } else if (kind === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`);
  } else if (kind === 'webgpu') {
    adapter = await installDawn();
    await import('@tensorflow/tfjs-backend-webgpu');
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  const tf = await import('@tensorflow/tfjs-core');
  // TF.js prints a banner suggesting tfjs-node; measurement output stays clean
  tf.env().set('IS_TEST', true);
  const ok = await tf.setBackend(ENGINE_NAME[kind]);
  if (!ok) throw new TfjsUnavailable(`TF.js backend ${ENGINE_NAME[kind]} failed to initialise`, 'see moebench env');
  await tf.ready();
  return { tf, adapter, version: tf.version_core };
}
