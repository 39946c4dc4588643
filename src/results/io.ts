import { readFileSync, statSync } from 'node:fs';
import { OtherMoebenchFileError, ResultFileError } from '../errors.js';
import { issuesText } from '../files/benchFiles.js';
import { writeFileDurable } from '../files/durable.js';
import { collectionLines, LINE_READ_BYTES, readCollectionLines } from './collectionLines.js';
import { integrityOf } from './integrity.js';
import { migrateResultRecord } from './migrate.js';
import { CollectionFileSchema, ResultFileSchema, SCHEMA_MAJOR, SCHEMA_VERSION, type CollectionFile, type ResultFile, type ResultFileBody } from './schema.js';


/** Serializes a result file with its integrity digest. Pure. */
export function serializeResultFile(body: ResultFileBody): string {
  const versioned = { ...body, schemaVersion: SCHEMA_VERSION };
  const file: ResultFile = { ...versioned, integrity: integrityOf(versioned) };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Written through the one durable path: a crash or a full disk leaves the old file or the new one, never half of one. */
export function writeResultFileAtomic(path: string, body: ResultFileBody): void {
  writeFileDurable(path, serializeResultFile(body), 'result file');
}

/** Validates text as a result file: JSON, version, schema, integrity. */
export function parseResultFile(text: string, path = '<input>'): ResultFile {
  const data = parseMoebenchJson(text, path);
  if (data.kind === 'collection') throw new ResultFileError(path, 'is a collection (moebench merge), not a single result file');
  return validate(ResultFileSchema, data, path) as ResultFile;
}

/** Validates text as either a result file or a collection. */
export function parseAnyFile(text: string, path = '<input>'): { kind: 'result'; file: ResultFile } | { kind: 'collection'; file: CollectionFile } {
  const data = parseMoebenchJson(text, path);
  if (data.kind === 'collection') return { kind: 'collection', file: validate(CollectionFileSchema, data, path) as CollectionFile };
  return { kind: 'result', file: validate(ResultFileSchema, data, path) as ResultFile };
}

export function readAnyFile(path: string): ReturnType<typeof parseAnyFile> {
  const size = sizeOf(path);
  if (size <= LINE_READ_BYTES) return parseAnyFile(readText(path), path);
  // a merge of big files: read a run at a time, never as one string
  const data = checkedRecord(readCollectionLines(path, size), path);
  if (data.kind !== 'collection') throw new ResultFileError(path, 'is not a collection, and only collections are read at this size');
  return { kind: 'collection', file: validate(CollectionFileSchema, data, path) as CollectionFile };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch (err) {
    throw ResultFileError.unreadable(path, err);
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw ResultFileError.unreadable(path, err);
  }
}

/** JSON, a moebench file, a readable schema version. */
function parseMoebenchJson(raw: string, path: string): Record<string, unknown> {
  // editors on some systems start UTF-8 files with a byte-order mark, which JSON.parse refuses
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  // a binary file's parse error would echo its bytes to the terminal
  const undecodable = text.split('\ufffd').length - 1;
  if (text.includes('\u0000') || undecodable > 16 + text.length / 100) {
    throw new ResultFileError(path, 'not a moebench result file: binary data, not JSON text');
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const hint = text.trim().length === 0 ? 'the file is empty' : `not valid JSON (${(err as Error).message}); the file may be truncated`;
    throw new ResultFileError(path, hint);
  }
  return checkedRecord(data, path);
}

/** A moebench file of a schema version this one reads. */
function checkedRecord(data: unknown, path: string): Record<string, unknown> {
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new ResultFileError(path, 'not a moebench result file (expected a JSON object)');
  const record = data as Record<string, unknown>;
  if (record.tool !== 'moebench') throw new ResultFileError(path, 'not a moebench result file (no "tool": "moebench")');
  if (record.kind === 'env-check')
    throw new OtherMoebenchFileError(path, 'is a moebench env --check report, not a result file: give result files or collections');
  const version = record.schemaVersion;
  if (typeof version !== 'string' || !/^\d+\.\d+$/.test(version)) {
    throw new ResultFileError(path, `schemaVersion ${JSON.stringify(version)} is not of the form MAJOR.MINOR`);
  }
  const major = Number(version.split('.')[0]);
  if (major !== SCHEMA_MAJOR) {
    throw new ResultFileError(path, `schema version ${version} is not supported: this moebench reads ${SCHEMA_MAJOR}.x (${major > SCHEMA_MAJOR ? 'upgrade moebench' : 'the file is from an older, incompatible moebench'})`);
  }
  return record;
}

/** An older file's record, migrated on a copy (the original keeps the digest it was written with); the notes say what changed. */
function migrated(record: Record<string, unknown>): { record: Record<string, unknown>; notes: string[] } {
  const copy = structuredClone(record);
  const notes: string[] = [];
  if (Array.isArray(copy.runs)) {
    for (const run of copy.runs as Record<string, unknown>[]) notes.push(...migrateResultRecord(run));
    const conflicts = (copy.conflicts ?? []) as { otherCase: unknown }[];
    notes.push(...migrateResultRecord({ cases: conflicts.map((c) => c.otherCase) }));
  } else notes.push(...migrateResultRecord(copy));
  return { record: copy, notes };
}

function validateWithNotes(
  schema: typeof ResultFileSchema | typeof CollectionFileSchema,
  record: Record<string, unknown>,
  path: string,
): { data: ResultFile | CollectionFile; notes: string[] } {
  const version = record.schemaVersion as string;
  const m = migrated(record);
  const parsed = schema.safeParse(m.record);
  if (!parsed.success) {
    throw new ResultFileError(path, `does not match result schema ${version}: ${issuesText(parsed.error, 5)}`);
  }
  // the digest covers the file as written, including fields a newer minor version added
  if (integrityOf(record) !== record.integrity) {
    throw new ResultFileError(path, 'integrity check failed: the file was changed after moebench wrote it (result files must come from real runs)');
  }
  return { data: parsed.data, notes: m.notes };
}

function validate(schema: typeof ResultFileSchema | typeof CollectionFileSchema, record: Record<string, unknown>, path: string): ResultFile | CollectionFile {
  return validateWithNotes(schema, record, path).data;
}

/**
 * `moebench repair`: a file an older moebench wrote with a defect this one repairs on read,
 * rewritten in place as this version writes it, every sample kept. Returns what was repaired;
 * a file with nothing to repair is left as it is.
 */
export function repairFile(path: string): string[] {
  const data = parseMoebenchJson(readText(path), path);
  const collection = data.kind === 'collection';
  const { data: file, notes } = validateWithNotes(collection ? CollectionFileSchema : ResultFileSchema, data, path);
  if (notes.length === 0) return [];
  const { integrity: _digest, schemaVersion: _version, ...body } = file;
  if (collection) writeCollectionAtomic(path, body as Omit<CollectionFile, 'integrity' | 'schemaVersion'>);
  else writeResultFileAtomic(path, body as ResultFileBody);
  return notes;
}

export function readResultFile(path: string): ResultFile {
  return parseResultFile(readText(path), path);
}

/** Writes a collection with its integrity digest, atomically, a run per line (see collectionLines.ts). */
export function writeCollectionAtomic(path: string, body: Omit<CollectionFile, 'integrity' | 'schemaVersion'>): void {
  const versioned = { ...body, schemaVersion: SCHEMA_VERSION };
  const { runs, conflicts, ...head } = { ...versioned, integrity: integrityOf(versioned) };
  writeFileDurable(path, collectionLines(head, runs, conflicts), 'collection');
}
