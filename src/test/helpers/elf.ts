import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A real ELF shared object named `soname` in `dir`, linked against `needs` (paths, kept as
 * DT_NEEDED entries), built with gcc: the stand-in for a driver or CUDA library that the loader
 * checks read as they would the real one. Its source, `dir/stub.c`, stays beside it.
 */
export function stubLibrary(dir: string, soname: string, needs: string[] = []): string {
  const src = join(dir, 'stub.c');
  writeFileSync(src, 'int moebench_stub(void) { return 0; }\n');
  const path = join(dir, soname);
  const r = spawnSync('gcc', ['-shared', '-fPIC', '-o', path, `-Wl,-soname,${soname}`, '-Wl,--no-as-needed', ...needs, src]);
  if (r.status !== 0) throw new Error(`gcc: ${r.stderr}`);
  return path;
}
