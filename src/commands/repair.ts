import { ResultFileError } from '../errors.js';
import { repairFile } from '../results/io.js';
import type { Io } from './io.js';

/**
 * `moebench repair FILE...`: files an older moebench wrote with a defect this one repairs on read
 * (see results/migrate.ts) are rewritten in place, every sample kept; the others are left alone.
 * Exit 2 when a file cannot be read or repaired (the reason is named), else 0.
 */
export async function repairCommand(paths: string[], io: Io): Promise<number> {
  let bad = 0;
  for (const path of paths) {
    try {
      const notes = repairFile(path);
      if (notes.length === 0) io.out(`${path}: nothing to repair`);
      else io.out(`${path}: repaired ${notes.length} case(s)\n${notes.map((n) => `  ${n}`).join('\n')}`);
    } catch (err) {
      if (!(err instanceof ResultFileError)) throw err;
      io.err(`moebench: ${err.message}`);
      bad++;
    }
  }
  return bad ? 2 : 0;
}
