import os from 'node:os';
import { createLogUpdate } from 'log-update';

/** The only place commands touch the terminal and the process: injectable for tests. */
export interface Io {
  argv: string[];
  out(text: string): void;
  err(text: string): void;
  /**
   * Where a long run stands: on a terminal one line rewritten in place (so a run's output fits a
   * screen), elsewhere a line on stderr like err's. Optional: without it progress goes to err.
   */
  progress?(text: string): void;
  /** Runs `handler` on SIGINT, SIGTERM or SIGHUP (a closed terminal or ssh session) and exits; returns a function that removes the handler. */
  onInterrupt(handler: () => void): () => void;
}

// on a terminal the progress line lives at the bottom of stderr, and whatever else is written clears it first
const live = process.stderr.isTTY ? createLogUpdate(process.stderr) : undefined;

export const processIo: Io = {
  argv: process.argv,
  out: (text) => {
    live?.clear();
    process.stdout.write(`${text}\n`);
  },
  err: (text) => {
    if (live) live.persist(text);
    else process.stderr.write(`${text}\n`);
  },
  progress: (text) => {
    if (live) live(text);
    else process.stderr.write(`${text}\n`);
  },
  onInterrupt(handler) {
    const onSignal = (signal: NodeJS.Signals) => {
      live?.clear();
      handler();
      process.exit(128 + (os.constants.signals[signal] ?? 15));
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, onSignal);
    return () => {
      for (const s of signals) process.off(s, onSignal);
    };
  },
};
