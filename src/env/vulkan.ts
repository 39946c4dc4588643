import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { elfNeeded, loaderView, type LoaderView } from './cudaLibraries.js';

/**
 * A Vulkan ICD chosen through the environment that is a CPU rasteriser (lavapipe)
 * means WebGPU runs in software: fine for tests, never what `auto` should pick.
 */
export function softwareVulkanSelected(env: NodeJS.ProcessEnv = process.env): boolean {
  const files = `${env.VK_ICD_FILENAMES ?? ''}:${env.VK_DRIVER_FILES ?? ''}`;
  return /lvp|lavapipe|swiftshader/i.test(files);
}

/** Where the Vulkan loader looks for driver manifests when the environment names none (system folders only). */
export const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'];

export interface VulkanProblem {
  reason: string;
  fix: string;
}

// glibc's own libraries: always there, and absent from a stand-in loader view
const GLIBC = /^(libc|libm|libdl|libpthread|librt|ld-linux[\w-]*)\.so/;

// what provides the libraries a GPU vendor's Vulkan driver links and a bare container lacks
const PROVIDERS: Record<string, string> = {
  'libGLdispatch.so.0': 'glvnd: libglvnd0 on Debian and Ubuntu',
  'libX11.so.6': 'libx11-6',
  'libXext.so.6': 'libxext6',
  'libxcb.so.1': 'libxcb1',
};

function manifestsOf(env: NodeJS.ProcessEnv, dirs: string[]): string[] {
  const named = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES;
  if (named) return named.split(':').filter(Boolean);
  return dirs.flatMap((d) => {
    try {
      return readdirSync(d)
        .filter((f) => f.endsWith('.json'))
        .map((f) => join(d, f));
    } catch {
      return [];
    }
  });
}

/** One manifest's driver library: found and loadable, or what stops the loader from opening it. */
function driverProblem(manifest: string, view: LoaderView): VulkanProblem | undefined {
  let library: string | undefined;
  try {
    library = (JSON.parse(readFileSync(manifest, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path;
  } catch (err) {
    return { reason: `the Vulkan driver manifest ${manifest} cannot be read (${(err as Error).message})`, fix: 'reinstall the GPU driver' };
  }
  if (!library) return { reason: `the Vulkan driver manifest ${manifest} names no library (ICD.library_path)`, fix: 'reinstall the GPU driver' };
  const path = library.includes('/') ? (isAbsolute(library) ? library : join(dirname(manifest), library)) : view.libraries.get(library);
  if (!path || !existsSync(path))
    return {
      reason: `${library}, the Vulkan driver that ${manifest} names, is not where the loader looks`,
      fix: "install the GPU driver's Vulkan part, or run ldconfig if it is installed",
    };
  const missing = (elfNeeded(path) ?? []).filter((n) => !GLIBC.test(n) && !view.libraries.has(n));
  if (!missing.length) return undefined;
  const providers = missing.map((n) => PROVIDERS[n]).filter(Boolean);
  return {
    reason: `the Vulkan driver ${library} (from ${manifest}) needs ${missing.join(', ')}, which the loader does not find: without it Vulkan lists no GPU`,
    fix: `install ${missing.join(', ')}${providers.length ? ` (${providers.join('; ')})` : ''}`,
  };
}

/** The general advice when no WebGPU adapter came and the loader's files say nothing more. */
const NO_ADAPTER_FIX = 'install a Vulkan driver for the GPU, or for a CPU adapter: eval "$(bash scripts/setup-lavapipe.sh --env)"';

/** What a WebGPU engine that found no adapter says: why, when the loader's files tell, and the fix. */
export function noAdapterHelp(env: NodeJS.ProcessEnv = process.env): { why?: string; fix: string } {
  const problem = vulkanDriverProblem(env);
  return { why: problem?.reason, fix: problem?.fix ?? NO_ADAPTER_FIX };
}

/**
 * Why the Vulkan loader would list no GPU, from what it reads: the loader itself, the driver
 * manifests and the libraries each driver links. Undefined when a driver looks loadable, so the
 * caller's own message stands. On the first H200 sitting the manifest was there and the
 * adapter missing: the NVIDIA driver (libGLX_nvidia) links glvnd's libGLdispatch, which a
 * container with only the Vulkan loader lacks.
 */
export function vulkanDriverProblem(env: NodeJS.ProcessEnv = process.env, view = loaderView(env), dirs = ICD_DIRS): VulkanProblem | undefined {
  if (view.ldconfigRan && !view.libraries.has('libvulkan.so.1'))
    return {
      reason: 'the Vulkan loader (libvulkan.so.1) is not installed',
      fix: "install it (libvulkan1 on Debian and Ubuntu) and the GPU driver's Vulkan part",
    };
  const manifests = manifestsOf(env, dirs);
  if (!manifests.length)
    return {
      reason: `no Vulkan driver manifest (none named by VK_DRIVER_FILES or VK_ICD_FILENAMES, none in ${dirs.join(', ')})`,
      fix: "install the GPU driver's Vulkan part (NVIDIA: nvidia_icd.json), or name its manifest in VK_DRIVER_FILES",
    };
  const problems = manifests.map((m) => driverProblem(m, view));
  if (problems.some((p) => p === undefined)) return undefined;
  return problems[0];
}
