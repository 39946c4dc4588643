import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { UsageError, WriteError } from '../errors.js';
import { ensureDir } from './durable.js';

interface Holder {
  pid: number;
  host: string;
  since: string;
}

function readHolder(lock: string): Holder | undefined {
  try {
    const [pid, host, since] = readFileSync(lock, 'utf8').trim().split(' ');
    return Number.isSafeInteger(Number(pid)) ? { pid: Number(pid), host, since } : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The locks this process holds, released when it exits however it exits (short of SIGKILL). */
const held = new Set<string>();

function release(lock: string): void {
  if (readHolder(lock)?.pid === process.pid) rmSync(lock, { force: true });
  held.delete(lock);
  if (held.size === 0) process.off('exit', releaseAll);
}

function releaseAll(): void {
  for (const lock of held) release(lock);
}

/**
 * Makes this process the only writer of `path` until it exits: an exclusive `PATH.lock` holding
 * its pid and host. Two runs given one --out (or one file to --resume) would otherwise each
 * rewrite the whole file after every case, and the file would end up holding one run's cases
 * while both said they wrote it. A lock left by a process that is gone (killed with SIGKILL) is
 * taken over; one held on another host (a shared file system) cannot be checked and is obeyed.
 * Returns the release, also done at exit.
 */
export function lockForWriting(path: string, what = 'file'): () => void {
  const lock = `${path}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      ensureDir(dirname(lock));
      const fd = openSync(lock, 'wx');
      try {
        writeSync(fd, `${process.pid} ${hostname()} ${new Date().toISOString()}\n`);
      } finally {
        closeSync(fd);
      }
      if (held.size === 0) process.once('exit', releaseAll);
      held.add(lock);
      return () => release(lock);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // the file's own folder is what cannot be written: said of the file, as its first write would
      if (code !== 'EEXIST') throw new WriteError(path, code ?? String(err), what);
      const holder = readHolder(lock);
      const stale = holder && holder.host === hostname() && !alive(holder.pid);
      if (!stale || attempt > 0) {
        const who = holder ? `moebench process ${holder.pid} on ${holder.host} (since ${holder.since})` : 'another moebench process';
        throw new UsageError(
          `${path} is being written by ${who}: two runs cannot write one file; wait for it to end or choose another --out (if no such process exists, remove ${lock})`,
        );
      }
      rmSync(lock, { force: true });
    }
  }
}
