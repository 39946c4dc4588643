import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFileDurable } from './durable.js';

/**
 * Cached files (models, their weights, reference rows) carry a sidecar `PATH.sha256` with the hash
 * and length of their bytes, written after the file itself. A file whose bytes no longer match
 * (truncated, emptied, partly zeroed, or written before its sidecar when a run died between the
 * two) is not trusted: the caller builds it again. Keyed by content, not only by the spec that
 * named the file, because the spec cannot see what happened to the bytes on disk.
 */
const sidecarOf = (path: string) => `${path}.sha256`;

const CHUNK_BYTES = 8 * 1024 * 1024;

function sidecarText(hash: Hash, bytes: number): string {
  return `${hash.digest('hex')}  ${bytes}\n`;
}

/** Hash of a file read in chunks (models reach tens of GB), in the sidecar's form. */
function hashFile(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let bytes = 0;
  try {
    for (let n = readSync(fd, buf, 0, CHUNK_BYTES, null); n > 0; n = readSync(fd, buf, 0, CHUNK_BYTES, null)) {
      hash.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return sidecarText(hash, bytes);
}

/** True when `path` exists and its bytes are those its sidecar recorded. */
export function isIntact(path: string): boolean {
  const sidecar = sidecarOf(path);
  if (!existsSync(path) || !existsSync(sidecar)) return false;
  try {
    return readFileSync(sidecar, 'utf8') === hashFile(path);
  } catch {
    return false;
  }
}

/** Writes a cached file through the durable path, then its sidecar, hashing the bytes as they go. */
export function writeCached(path: string, content: Uint8Array | Iterable<Uint8Array>, what: string): void {
  const hash = createHash('sha256');
  let bytes = 0;
  const chunks = content instanceof Uint8Array ? [content] : content;
  writeFileDurable(
    path,
    (function* () {
      for (const chunk of chunks) {
        hash.update(chunk);
        bytes += chunk.byteLength;
        yield chunk;
      }
    })(),
    what,
  );
  writeFileDurable(sidecarOf(path), sidecarText(hash, bytes), `${what} hash`);
}
