import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boxCuda, checkLibraries, elfNeeded, loaderView, ORT_CUDA_BUILD, ortCudaNeeds, TFJS_NODE_GPU_BUILD } from '../env/cudaLibraries.js';
import { moebench } from './helpers/cli.js';
import { stubLibrary } from './helpers/elf.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'moebench-cudalib-'));

/** Real ELF shared objects with the given sonames, in a folder of their own: what a CUDA install puts on the loader path. */
function standIns(sonames: string[]): string {
  const dir = tmp();
  for (const so of sonames) stubLibrary(dir, so);
  return dir;
}

/** Only the folder given: no ldconfig cache, so the box's own libraries do not leak in. */
const viewOf = (dir: string) => loaderView({ LD_LIBRARY_PATH: dir }, '/bin/false');

const CUDA12 = ['libcublasLt.so.12', 'libcublas.so.12', 'libcurand.so.10', 'libcudart.so.12', 'libcufft.so.11', 'libcuda.so.1'];

describe('the CUDA engines’ libraries against stand-in folders', () => {
  it('all present: nothing missing, no problem', () => {
    const view = viewOf(standIns([...CUDA12, 'libcudnn.so.9']));
    const c = checkLibraries(ORT_CUDA_BUILD, view, boxCuda(view));
    expect(c.missing).toEqual([]);
    expect(c.problem).toBeUndefined();
  });

  it('cuDNN missing: says cuDNN 9 is needed and the box has none, and how to add it', () => {
    const view = viewOf(standIns(CUDA12));
    const c = checkLibraries(ORT_CUDA_BUILD, view, boxCuda(view, 'NVIDIA-SMI 570.86   Driver Version: 570.86   CUDA Version: 12.8'));
    expect(c.missing).toEqual(['libcudnn.so.9']);
    expect(c.problem).toBe(
      'ort-cuda needs CUDA 12 and cuDNN 9; this box has CUDA runtime 12 (libcudart), cuBLAS, no cuDNN, a driver for CUDA up to 12.8; missing: libcudnn.so.9',
    );
    expect(c.fix).toMatch(/nvidia-cudnn-cu12.*LD_LIBRARY_PATH/);
  });

  it('the wrong CUDA major (13 where 12 is needed): each library of 12 is missing, and the box’s 13 is named', () => {
    const view = viewOf(standIns(['libcudart.so.13', 'libcublas.so.13', 'libcublasLt.so.13', 'libcudnn.so.9', 'libcuda.so.1']));
    const c = checkLibraries(ORT_CUDA_BUILD, view, boxCuda(view));
    expect(c.missing).toEqual(['libcublasLt.so.12', 'libcublas.so.12', 'libcurand.so.10', 'libcudart.so.12', 'libcufft.so.11']);
    expect(c.problem).toMatch(/^ort-cuda needs CUDA 12 and cuDNN 9; this box has CUDA runtime 13 \(libcudart\), cuBLAS, cuDNN 9; missing: /);
    expect(c.fix).toMatch(/install the CUDA 12 libraries beside any other CUDA/);
    // and tfjs-node-gpu's CUDA 11 / cuDNN 8 on the same folder
    const t = checkLibraries(TFJS_NODE_GPU_BUILD, view, boxCuda(view));
    expect(t.problem).toMatch(/^tfjs-node-gpu needs CUDA 11 and cuDNN 8; .*missing: libcudart\.so\.11\.0, libcublas\.so\.11, .*libcudnn\.so\.8$/);
  });

  it('an installed provider is read for its own list (DT_NEEDED), not the build files', () => {
    // what the provider links: the box has these, not cuDNN or cuFFT, which it opens when used
    const linked = ['libcublasLt.so.12', 'libcublas.so.12', 'libcurand.so.10', 'libcudart.so.12', 'libcuda.so.1'];
    const libs = standIns(linked);
    const provider = stubLibrary(
      libs,
      'libonnxruntime_providers_cuda.so',
      linked.map((n) => join(libs, n)),
    );
    const src = join(libs, 'stub.c');
    expect(elfNeeded(provider)).toEqual(expect.arrayContaining(linked));
    const needs = ortCudaNeeds(provider);
    expect(needs.source).toMatch(/DT_NEEDED entries of .*libonnxruntime_providers_cuda\.so/);
    expect(needs.cudaMajor).toBe(12);
    const c = checkLibraries(needs, viewOf(libs), boxCuda(viewOf(libs)));
    expect(c.missing).toEqual(['libcudnn.so.9', 'libcufft.so.11']);
    expect(c.found.find((l) => l.name === 'libcudnn.so.9')?.when).toBe('when used');
    expect(elfNeeded(src)).toBeUndefined();
  });

  it('LD_LIBRARY_PATH is searched before the loader cache, as the loader does', () => {
    const first = standIns(['libcudart.so.12']);
    const view = loaderView({ LD_LIBRARY_PATH: first });
    expect(view.libraries.get('libcudart.so.12')).toBe(join(first, 'libcudart.so.12'));
  });
});

// the development machines' own layout (../shared/FACTS.md): a partial CUDA 13.0 toolkit, no cuBLAS, no cuDNN, no driver
const DEV_LAYOUT = existsSync('/usr/local/cuda-13.0/lib/libcudart.so.13') && spawnSync('nvidia-smi').error !== undefined;

describe.runIf(DEV_LAYOUT)('on the development machine’s real layout', () => {
  it('says exactly what is there: CUDA runtime 13, no cuBLAS, no cuDNN, no driver', () => {
    const view = loaderView();
    const c = checkLibraries(ORT_CUDA_BUILD, view, boxCuda(view));
    expect(c.problem).toBe(
      'ort-cuda needs CUDA 12 and cuDNN 9; this box has CUDA runtime 13 (libcudart), no cuBLAS, no cuDNN, no NVIDIA driver (libcuda.so.1); missing: libcublasLt.so.12, libcublas.so.12, libcurand.so.10, libcudart.so.12, libcuda.so.1, libcudnn.so.9, libcufft.so.11',
    );
  });

  it('moebench env says it for both CUDA engines, with the fix', () => {
    const r = moebench(['env']);
    expect(r.status).toBe(0);
    // every line fits a terminal: long reasons are wrapped, never cut; read them back as one line each
    expect(r.stdout.split('\n').filter((l) => l.length > 120)).toEqual([]);
    r.stdout = r.stdout.replace(/\n +/g, ' ');
    expect(r.stdout).toContain('ort-cuda needs CUDA 12 and cuDNN 9; this box has CUDA runtime 13 (libcudart), no cuBLAS, no cuDNN');
    expect(r.stdout).toContain('tfjs-node-gpu needs CUDA 11 and cuDNN 8; this box has CUDA runtime 13 (libcudart), no cuBLAS, no cuDNN');
    expect(r.stdout).toMatch(/fix: .*install the CUDA 12 libraries beside any other CUDA/);
  });
});

describe('moebench env with a stand-in CUDA 12 folder on LD_LIBRARY_PATH', () => {
  it('names what is still missing (cuDNN) for ort-cuda', () => {
    const dir = standIns(CUDA12);
    mkdirSync(join(dir, 'empty'));
    const r = moebench(['env', '--json'], { LD_LIBRARY_PATH: dir });
    expect(r.status).toBe(0);
    const ort = JSON.parse(r.stdout).cudaLibraries.find((c: { needs: { engine: string } }) => c.needs.engine === 'ort-cuda');
    expect(ort.missing).toEqual(['libcudnn.so.9']);
  });
});
