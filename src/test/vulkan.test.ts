import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loaderView } from '../env/cudaLibraries.js';
import { vulkanDriverProblem } from '../env/vulkan.js';
import { lavapipeEnv, moebench } from './helpers/cli.js';
import { stubLibrary } from './helpers/elf.js';

/**
 * A stand-in of the first H200 sitting's box (2026-12-04): the Vulkan loader and NVIDIA's
 * manifest were there, the driver library linked glvnd's libGLdispatch, and nothing provided
 * it, so Vulkan listed no GPU and both WebGPU engines said only "no adapter".
 */
function box(o: { dispatch: boolean; loader?: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-vulkan-'));
  const lib = join(dir, 'lib');
  const icd = join(dir, 'icd.d');
  mkdirSync(lib);
  mkdirSync(icd);
  const dispatch = stubLibrary(lib, 'libGLdispatch.so.0');
  stubLibrary(lib, 'libGLX_nvidia.so.0', [dispatch]);
  if (o.loader !== false) stubLibrary(lib, 'libvulkan.so.1');
  // the driver was linked against it; the box then lacks it
  if (!o.dispatch) rmSync(dispatch);
  const manifest = join(icd, 'nvidia_icd.json');
  writeFileSync(manifest, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: 'libGLX_nvidia.so.0', api_version: '1.4.312' } }));
  const env = { LD_LIBRARY_PATH: lib };
  // only the stand-in folder: ldconfig's cache of this machine stays out (the loader counts as found)
  const view = { ...loaderView(env, '/bin/false'), ldconfigRan: true };
  return { dir, icd, manifest, env, view };
}

describe('why Vulkan lists no GPU', () => {
  it('names the library the NVIDIA driver links and the box lacks, and the package that has it', () => {
    const b = box({ dispatch: false });
    const p = vulkanDriverProblem(b.env, b.view, [b.icd]);
    expect(p?.reason).toBe(
      `the Vulkan driver libGLX_nvidia.so.0 (from ${b.manifest}) needs libGLdispatch.so.0, which the loader does not find: without it Vulkan lists no GPU`,
    );
    expect(p?.fix).toBe('install libGLdispatch.so.0 (glvnd: libglvnd0 on Debian and Ubuntu)');
  });

  it('has nothing to add when the driver and what it links are there', () => {
    const b = box({ dispatch: true });
    expect(vulkanDriverProblem(b.env, b.view, [b.icd])).toBeUndefined();
    // a manifest named in the environment is read instead of the folders
    expect(vulkanDriverProblem({ ...b.env, VK_DRIVER_FILES: b.manifest }, b.view, [])).toBeUndefined();
  });

  it('a driver the manifest names but the loader cannot find', () => {
    const b = box({ dispatch: true });
    const p = vulkanDriverProblem(b.env, { ...b.view, libraries: new Map([['libvulkan.so.1', '/x']]) }, [b.icd]);
    expect(p?.reason).toBe(`libGLX_nvidia.so.0, the Vulkan driver that ${b.manifest} names, is not where the loader looks`);
  });

  it('no loader, or no manifest at all', () => {
    const b = box({ dispatch: true, loader: false });
    expect(vulkanDriverProblem(b.env, b.view, [b.icd])?.reason).toBe('the Vulkan loader (libvulkan.so.1) is not installed');
    const c = box({ dispatch: true });
    expect(vulkanDriverProblem(c.env, c.view, [join(c.dir, 'none')])?.reason).toMatch(/^no Vulkan driver manifest \(none named by VK_DRIVER_FILES/);
  });

  it('one loadable driver among broken ones is enough', () => {
    const good = box({ dispatch: true });
    const bad = join(good.dir, 'gone_icd.json');
    writeFileSync(bad, JSON.stringify({ ICD: { library_path: 'libvulkan_gone.so.1' } }));
    expect(vulkanDriverProblem({ VK_DRIVER_FILES: bad }, good.view, [])?.reason).toMatch(/^libvulkan_gone\.so\.1, the Vulkan driver that .* names/);
    expect(vulkanDriverProblem({ VK_DRIVER_FILES: `${bad}:${good.manifest}` }, good.view, [])).toBeUndefined();
  });
});

describe('the WebGPU engines say why Vulkan lists no GPU', () => {
  it('moebench env names the library the chosen driver lacks, for ORT and for Dawn', () => {
    // the real Vulkan loader (lavapipe's folder has one where the system lacks it) handed a
    // driver manifest whose library links one that is nowhere: the H200's failure, reproduced
    const dir = mkdtempSync(join(tmpdir(), 'moebench-vulkan-env-'));
    const gone = stubLibrary(dir, 'libmoebench_gone.so.1');
    const driver = stubLibrary(dir, 'libmoebench_icd.so.0', [gone]);
    rmSync(gone);
    const manifest = join(dir, 'moebench_icd.json');
    writeFileSync(manifest, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: driver, api_version: '1.3.0' } }));
    const lavapipe = lavapipeEnv();
    const r = moebench(['env'], {
      MOEBENCH_ENGINES: 'ort-webgpu,tfjs-webgpu',
      VK_DRIVER_FILES: manifest,
      VK_ICD_FILENAMES: manifest,
      LD_LIBRARY_PATH: [lavapipe?.LD_LIBRARY_PATH, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    });
    // the "why and the fix" paragraphs, one per engine, unwrapped
    const why = r.stdout.replace(/\s+/g, ' ').split(/ (?=(?:ort|tfjs)-webgpu: )/);
    for (const engine of ['ort-webgpu', 'tfjs-webgpu'])
      expect(
        why.find((p) => p.startsWith(`${engine}: `)),
        r.stdout + r.stderr,
      ).toMatch(/needs libmoebench_gone\.so\.1, which the loader does not find: without it Vulkan lists no GPU fix: install libmoebench_gone\.so\.1/);
  });
});
