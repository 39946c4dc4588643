import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { WriteError } from '../errors.js';

/**
 * mkdir -p, one level at a time. Node's own recursive mkdirSync spins forever on
 * some pseudo file systems (a path under /proc); this fails with the first error.
 */
export function ensureDir(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) ensureDir(parent);
  try {
    mkdirSync(dir);
  } catch (err) {
    // made meanwhile by another process (two runs started at once in a fresh folder): it is there, as asked;
    // an EEXIST let through would read to lockForWriting as a lock held by someone
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** writeSync may write fewer bytes than asked (a nearly full disk): loop until all are written. */
function writeAll(fd: number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) {
    const n = writeSync(fd, bytes, at, bytes.length - at);
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
    at += n;
  }
}

/**
 * The one way moebench writes a file (results, collections, reports, models): into a temporary
 * file beside it, every write checked, fsync, then rename over the target. A crash or a full disk
 * leaves either the old file or the new one, never half of one; on failure the temporary file is
 * removed and a WriteError names the path and the reason.
 */
export function writeFileDurable(path: string, content: string | Uint8Array | Iterable<Uint8Array>, what = 'file'): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    ensureDir(dirname(path));
    const fd = openSync(tmp, 'w');
    try {
      if (typeof content === 'string') writeAll(fd, Buffer.from(content, 'utf8'));
      else if (content instanceof Uint8Array) writeAll(fd, content);
      else for (const chunk of content) writeAll(fd, chunk);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was created there (ENOTDIR: a path through a file)
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new WriteError(path, code, what);
    throw err;
  }
}
