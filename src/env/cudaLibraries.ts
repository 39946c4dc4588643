import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Which CUDA and cuDNN libraries a CUDA engine needs, which of them this box's loader finds, and
 * the fix when some are missing: said before the engine is loaded, instead of ONNX Runtime's or
 * TensorFlow's raw dlopen error (or a silent fallback to the CPU).
 */

export interface NeededLibrary {
  /** The soname the loader looks for, e.g. libcublas.so.12. */
  name: string;
  /** Linked (DT_NEEDED: the engine does not load without it) or opened when an operator needs it. */
  when: 'linked' | 'when used';
}

export interface EngineNeeds {
  engine: 'ort-cuda' | 'tfjs-node-gpu';
  cudaMajor: number;
  cudnnMajor: number;
  libraries: NeededLibrary[];
  /** Where the list comes from: the provider's own ELF header, or the engine's build files when it is not installed. */
  source: string;
}

/**
 * onnxruntime-node 1.30's CUDA provider is a CUDA 12 build. Its cmake/onnxruntime_providers_cuda.cmake
 * links cuBLAS, cuBLASLt, cuRAND, the CUDA runtime and driver, and opens cuDNN and cuFFT at run time
 * (cudnn_stub.cc, cufft_stub.cc); cuDNN 9 is what its CUDA 12 packages are built against.
 */
export const ORT_CUDA_BUILD: EngineNeeds = {
  engine: 'ort-cuda',
  cudaMajor: 12,
  cudnnMajor: 9,
  libraries: [
    { name: 'libcublasLt.so.12', when: 'linked' },
    { name: 'libcublas.so.12', when: 'linked' },
    { name: 'libcurand.so.10', when: 'linked' },
    { name: 'libcudart.so.12', when: 'linked' },
    { name: 'libcuda.so.1', when: 'linked' },
    { name: 'libcudnn.so.9', when: 'when used' },
    { name: 'libcufft.so.11', when: 'when used' },
  ],
  source:
    "ONNX Runtime 1.30's build files (cmake/onnxruntime_providers_cuda.cmake, CUDA 12 build): the provider is not installed, so its own list cannot be read",
};

/** libtensorflow 2.9.1 (tfjs-node-gpu 4.22) opens these through its dso_loader, built for CUDA 11.2 and cuDNN 8.1. */
export const TFJS_NODE_GPU_BUILD: EngineNeeds = {
  engine: 'tfjs-node-gpu',
  cudaMajor: 11,
  cudnnMajor: 8,
  libraries: [
    { name: 'libcudart.so.11.0', when: 'linked' },
    { name: 'libcublas.so.11', when: 'linked' },
    { name: 'libcublasLt.so.11', when: 'linked' },
    { name: 'libcufft.so.10', when: 'when used' },
    { name: 'libcurand.so.10', when: 'when used' },
    { name: 'libcusolver.so.11', when: 'when used' },
    { name: 'libcusparse.so.11', when: 'when used' },
    { name: 'libcudnn.so.8', when: 'linked' },
    { name: 'libcuda.so.1', when: 'linked' },
  ],
  source: "TensorFlow 2.9's dso_loader (the libtensorflow 2.9.1 that tfjs-node-gpu 4.22 downloads): opened at start, not linked",
};

/** DT_NEEDED entries of an ELF64 little-endian shared object; undefined when the file is not one. */
export function elfNeeded(path: string): string[] | undefined {
  const fd = openSync(path, 'r');
  try {
    const read = (offset: number, length: number) => {
      const b = Buffer.alloc(length);
      readSync(fd, b, 0, length, offset);
      return b;
    };
    const h = read(0, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2 || h[5] !== 1) return undefined;
    const shoff = Number(h.readBigUInt64LE(0x28));
    const shentsize = h.readUInt16LE(0x3a);
    const shnum = h.readUInt16LE(0x3c);
    const sections = Array.from({ length: shnum }, (_, i) => {
      const s = read(shoff + i * shentsize, shentsize);
      return { type: s.readUInt32LE(4), offset: Number(s.readBigUInt64LE(0x18)), size: Number(s.readBigUInt64LE(0x20)), link: s.readUInt32LE(0x28) };
    });
    const SHT_DYNAMIC = 6;
    const DT_NEEDED = 1n;
    const dynamic = sections.find((s) => s.type === SHT_DYNAMIC);
    if (!dynamic) return [];
    const strtab = sections[dynamic.link];
    const strings = read(strtab.offset, strtab.size);
    const entries = read(dynamic.offset, dynamic.size);
    const needed: string[] = [];
    for (let at = 0; at + 16 <= entries.length; at += 16) {
      const tag = entries.readBigInt64LE(at);
      if (tag === 0n) break;
      if (tag !== DT_NEEDED) continue;
      const start = Number(entries.readBigUInt64LE(at + 8));
      needed.push(strings.subarray(start, strings.indexOf(0, start)).toString('latin1'));
    }
    return needed;
  } finally {
    closeSync(fd);
  }
}

/** The ORT CUDA provider's own list when it is installed (its DT_NEEDED), else the build-file list. */
export function ortCudaNeeds(providerPath: string | undefined): EngineNeeds {
  if (!providerPath || !existsSync(providerPath)) return ORT_CUDA_BUILD;
  const linked = (elfNeeded(providerPath) ?? []).filter((n) => /^lib(cu|nv)/.test(n));
  if (!linked.length) return ORT_CUDA_BUILD;
  const major = (prefix: string) => Number(/\.so\.(\d+)/.exec(linked.find((n) => n.startsWith(prefix)) ?? '')?.[1] ?? NaN);
  const cudaMajor = major('libcudart.so') || major('libcublas.so') || ORT_CUDA_BUILD.cudaMajor;
  const runtime = ORT_CUDA_BUILD.libraries.filter((l) => l.when === 'when used' && !linked.some((n) => n.startsWith(l.name.split('.so')[0])));
  return {
    engine: 'ort-cuda',
    cudaMajor,
    cudnnMajor: major('libcudnn.so') || ORT_CUDA_BUILD.cudnnMajor,
    libraries: [...linked.map((name) => ({ name, when: 'linked' as const })), ...runtime],
    source: `the DT_NEEDED entries of ${providerPath}${runtime.length ? ', with what its build files open at run time' : ''}`,
  };
}

/** What the dynamic loader finds: `ldconfig -p`'s cache, then LD_LIBRARY_PATH's folders (searched first at run time). */
export interface LoaderView {
  /** soname → path. */
  libraries: Map<string, string>;
  ldconfigRan: boolean;
}

export function loaderView(env: NodeJS.ProcessEnv = process.env, ldconfig = 'ldconfig'): LoaderView {
  const libraries = new Map<string, string>();
  const r = spawnSync(ldconfig, ['-p'], { encoding: 'utf8', env });
  const ldconfigRan = r.status === 0;
  if (ldconfigRan) {
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*(\S+) \(([^)]*)\) => (\S+)/.exec(line);
      if (m && m[2].includes('x86-64') && !libraries.has(m[1])) libraries.set(m[1], m[3]);
    }
  }
  for (const dir of (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean).reverse()) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (/\.so(\.\d+)*$/.test(n)) libraries.set(n, join(dir, n));
  }
  return { libraries, ldconfigRan };
}

/** The CUDA runtime and cuDNN majors this box has (from the sonames found), and the driver's CUDA version. */
export interface BoxCuda {
  cudaMajors: number[];
  cudnnMajors: number[];
  cublas: boolean;
  /** "CUDA Version" in nvidia-smi's header: the newest CUDA the driver runs. */
  driverCuda?: string;
}

export function boxCuda(view: LoaderView, nvidiaSmiHeader?: string): BoxCuda {
  const majors = (prefix: string) =>
    [...new Set([...view.libraries.keys()].map((n) => new RegExp(`^${prefix}\\.so\\.(\\d+)`).exec(n)?.[1]).filter((x): x is string => !!x))]
      .map(Number)
      .sort((a, b) => a - b);
  const driverCuda = nvidiaSmiHeader ? /CUDA Version:\s*([\d.]+)/.exec(nvidiaSmiHeader)?.[1] : undefined;
  return {
    cudaMajors: majors('libcudart'),
    cudnnMajors: majors('libcudnn'),
    cublas: majors('libcublas').length > 0,
    ...(driverCuda ? { driverCuda } : {}),
  };
}

export interface LibraryCheck {
  needs: EngineNeeds;
  found: { name: string; when: NeededLibrary['when']; path?: string }[];
  missing: string[];
  /** A library the engine's binary links against is missing, so it cannot load at all (not only fall back). */
  linkedMissing: boolean;
  box: BoxCuda;
  /** One line: what is missing against what the box has, or undefined when nothing is. */
  problem?: string;
  fix?: string;
}

const CUDA_PIP: Record<number, string> = {
  12: 'pip install nvidia-cuda-runtime-cu12 nvidia-cublas-cu12 nvidia-curand-cu12 nvidia-cufft-cu12 nvidia-cudnn-cu12',
  11: 'pip install nvidia-cuda-runtime-cu11 nvidia-cublas-cu11 nvidia-curand-cu11 nvidia-cufft-cu11 nvidia-cusolver-cu11 nvidia-cusparse-cu11 "nvidia-cudnn-cu11<9"',
};

function list(xs: number[], what: string): string {
  return xs.length ? `${what} ${xs.join(' and ')}` : `no ${what}`;
}

/** Checks one engine's needs against what the loader finds here. Pure but for the view passed in. */
export function checkLibraries(needs: EngineNeeds, view: LoaderView, box: BoxCuda): LibraryCheck {
  const found = needs.libraries.map((l) => ({ ...l, path: view.libraries.get(l.name) }));
  // libcuda.so.1 is the driver's, not a toolkit library: its absence means no driver, said apart
  const missing = found.filter((l) => !l.path).map((l) => l.name);
  const linkedMissing = found.some((l) => l.when === 'linked' && !l.path);
  if (!missing.length) return { needs, found, missing, linkedMissing, box };
  const noDriver = missing.includes('libcuda.so.1');
  const toolkit = missing.filter((n) => n !== 'libcuda.so.1');
  const has = `this box has ${list(box.cudaMajors, 'CUDA runtime')} (libcudart), ${box.cublas ? 'cuBLAS' : 'no cuBLAS'}, ${list(box.cudnnMajors, 'cuDNN')}${box.driverCuda ? `, a driver for CUDA up to ${box.driverCuda}` : noDriver ? ', no NVIDIA driver (libcuda.so.1)' : ''}`;
  const problem = `${needs.engine} needs CUDA ${needs.cudaMajor} and cuDNN ${needs.cudnnMajor}; ${has}; missing: ${missing.join(', ')}`;
  const steps = [
    ...(noDriver
      ? [
          box.driverCuda
            ? "the driver's libcuda.so.1 is not where the loader looks: run ldconfig, or add its folder to LD_LIBRARY_PATH"
            : 'install the NVIDIA driver (it provides libcuda.so.1)',
        ]
      : []),
    ...(toolkit.length
      ? [
          `install the CUDA ${needs.cudaMajor} libraries beside any other CUDA (they are versioned by soname and coexist): ${CUDA_PIP[needs.cudaMajor] ?? `the CUDA ${needs.cudaMajor} runtime, cuBLAS and cuDNN ${needs.cudnnMajor}`}, then put their lib folders on LD_LIBRARY_PATH (for pip: $(python3 -c "import nvidia, os; print(':'.join(os.path.join(p, d, 'lib') for p in nvidia.__path__ for d in os.listdir(p)))")), or your distribution's CUDA ${needs.cudaMajor} and cuDNN ${needs.cudnnMajor} packages`,
        ]
      : []),
  ];
  return { needs, found, missing, linkedMissing, box, problem, fix: steps.join('; ') };
}

/** Checks one engine's needs against this box: its loader's view, its CUDA libraries and its driver. */
export function checkLibrariesHere(needs: EngineNeeds, env: NodeJS.ProcessEnv = process.env): LibraryCheck {
  const view = loaderView(env);
  return checkLibraries(needs, view, boxCuda(view, nvidiaSmiHeader()));
}

/** nvidia-smi's plain header (driver and CUDA version), when it runs. */
export function nvidiaSmiHeader(): string | undefined {
  const r = spawnSync('nvidia-smi', [], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.split('\n').slice(0, 4).join('\n') : undefined;
}
