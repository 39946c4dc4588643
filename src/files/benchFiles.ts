import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { projectRoot } from './projectRoot.js';
import { UsageError } from '../errors.js';

/** Issues of a failed validation, as one line. */
export function issuesText(error: z.ZodError, max = 4): string {
  const more = error.issues.length > max ? ` (and ${error.issues.length - max} more)` : '';
  return (
    error.issues
      .slice(0, max)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ') + more
  );
}

/** Validates data against a schema; bad data is the user's to fix: one line, exit 2. */
export function validateInput<T extends z.ZodTypeAny>(schema: T, data: unknown, label: string): z.infer<T> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new UsageError(`${label}: ${issuesText(parsed.error)}`);
  return parsed.data;
}

/**
 * A data file of bench/ (a suite, a scenario) by name, bench/FOLDER/NAME.json, or by
 * path; read, parsed and validated, every failure a UsageError naming the file.
 */
export function loadBenchFile<T extends z.ZodTypeAny>(folder: string, kind: string, nameOrPath: string, schema: T): z.infer<T> {
  const path = nameOrPath.endsWith('.json') ? nameOrPath : join(projectRoot(), 'bench', folder, `${nameOrPath}.json`);
  if (!existsSync(path)) throw new UsageError(`unknown ${kind} "${nameOrPath}": no file ${path}`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${kind} ${path}: ${(err as Error).message}`);
  }
  return validateInput(schema, data, `${kind} ${path}`);
}
