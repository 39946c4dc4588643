/** The only place commands touch the terminal and the process: injectable for tests. */
export interface Io {
  argv: string[];
  out(text: string): void;
  err(text: string): void;
  /** Runs `handler` on SIGINT/SIGTERM and exits; returns a function that removes the handler. */
  onInterrupt(handler: () => void): () => void;
}

export const processIo: Io = {
  argv: process.argv,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  onInterrupt(handler) {
    const onSignal = (signal: NodeJS.Signals) => {
      handler();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  },
};
