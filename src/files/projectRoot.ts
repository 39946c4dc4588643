import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of moebench's package.json, from a source (src/files) or a built (dist/src/files) module. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'moebench') return dir;
    } catch {
      /* keep climbing */
    }
    dir = dirname(dir);
  }
  return process.cwd();
}
