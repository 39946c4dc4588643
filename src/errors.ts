/**
 * The errors moebench tells apart, each with its exit code. Anything else that reaches the CLI is
 * a bug: it is printed with its stack and exits with EXIT.internal.
 */
export const EXIT = {
  ok: 0,
  /** A case failed or came out invalid, or an input among several could not be read. */
  failed: 1,
  /** Bad input: an option, a file, a path. One line, never a stack trace. */
  usage: 2,
  /** compare --fail-on: a verdict the user asked to fail on (a CI gate), apart from a skipped bad file. */
  regression: 3,
  /** A bug in moebench (sysexits' EX_SOFTWARE). */
  internal: 70,
} as const;

/** Bad input from the user: printed as one line, exit code 2, never a stack trace. */
export class UsageError extends Error {
  readonly exitCode: number = EXIT.usage;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A result file or collection that cannot be used, naming the file and why. It is input, so exit 2. */
export class ResultFileError extends UsageError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'ResultFileError';
  }

  /** A file or folder the system would not read, in words rather than an errno code. */
  static unreadable(path: string, err: unknown): ResultFileError {
    const code = (err as NodeJS.ErrnoException).code;
    const why: Record<string, string> = {
      ENOENT: 'no such file or folder',
      EACCES: 'permission denied',
      EISDIR: 'is a folder, not a file',
      ENOTDIR: 'a part of its path is not a folder',
    };
    return new ResultFileError(path, `cannot read: ${(code && why[code]) ?? code ?? (err as Error).message}`);
  }
}

/**
 * A file moebench wrote that is not a result file (an `env --check --out` report): a folder of
 * results may hold one beside the runs (a GPU sitting's folder does), and a scan passes it by.
 */
export class OtherMoebenchFileError extends ResultFileError {
  constructor(path: string, reason: string) {
    super(path, reason);
    this.name = 'OtherMoebenchFileError';
  }
}

/**
 * A file moebench could not write (full disk, read-only mount, permissions): one line, exit 2.
 * The file it would have replaced is left as it was.
 */
export class WriteError extends UsageError {
  constructor(
    readonly path: string,
    readonly code: string,
    what = 'file',
    /** What became of the data that could not be written there (where it was kept instead). */
    kept?: string,
  ) {
    super(
      `cannot write ${what} ${path}: ${code}${code === 'ENOSPC' ? ' (the disk is full)' : code === 'EROFS' ? ' (read-only file system)' : ''}; the file there, if any, is unchanged${kept ? `; ${kept}` : ''}`,
    );
    this.name = 'WriteError';
  }
}
