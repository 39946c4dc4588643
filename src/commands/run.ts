import { COMPARE_DEFAULTS } from '../compare/compare.js';
import { onHostCpu } from '../env/cards.js';
import { checksOfRun, hostWarning, judgeHost, judgeHostOverChecks, readHostSignals, type HostCheck } from '../env/hostLoad.js';
import { EXIT } from '../errors.js';
import { caseCsv, planTable } from '../report/table.js';
import { runTableText } from '../report/runText.js';
import { wrap } from '../text/table.js';
import { ResultSession } from '../results/session.js';
import { recordedRunOptions, type RunOptions } from '../run/options.js';
import { planRun } from '../run/plan.js';
import { cardsForDeviceAll, finishRun, interruptedText, perCardOptions, prepareRun, runRounds, type PreparedRun } from '../run/schedule.js';
import { accountFor } from '../workloads/accounting.js';
import type { Io } from './io.js';

/** The table and file of one finished run, in the format asked for; csv is the cases alone, so it can be piped. */
function summaryText(p: PreparedRun, format: RunOptions['format']): string {
  const sweeps = finishRun(p);
  const { session } = p;
  if (format === 'json') return JSON.stringify({ file: session.path, cases: session.cases, sweeps }, null, 2);
  if (format === 'csv') return caseCsv(session.cases);
  return `${runTableText(session.cases, p.options, format, sweeps)}\n\nresult file: ${session.path}`;
}

/**
 * The host checked again after a run that measured for this long, so its file says whether the host
 * held steady while the cases ran; a shorter run has one check's worth of host (the check itself
 * takes about a second).
 */
const HOST_RECHECK_AFTER_MS = 20_000;

/** The check after the last case, recorded beside the first, and said once when the host moved between them. */
async function recheckHost(prepared: { p: PreparedRun }[], log: (line: string) => void): Promise<void> {
  const hostCases = prepared.some(({ p }) => p.backends.some((b) => onHostCpu(b.placement)));
  const after = judgeHost(await readHostSignals(), { hostCases });
  for (const { p } of prepared) if (p.todo.length > 0) p.session.recordEnvironment({ hostCheckAfter: after });
  const before = prepared[0].p.session.environment.hostCheck;
  // a file from before the check has no start to hold against
  if (!before) return;
  // a host busy at the start was said then
  const held = judgeHostOverChecks(checksOfRun({ hostCheck: { ...before, noisy: false }, hostCheckAfter: after }, 'the start', 'the end'), {
    hostCases,
    margin: COMPARE_DEFAULTS.minDifference,
  });
  if (!held.quiet)
    wrap(
      `moebench: the host changed during this run (${held.reasons.join('; ')}): its later cases may differ from its earlier ones by the host's doing`,
    ).forEach((l) => log(l));
}

const failed = (p: PreparedRun) => p.session.cases.some((c) => c.status === 'failed' || c.status === 'invalid');

/** `moebench run`: options → prepared runs (one, or one per card) → rounds of case processes → tables. Returns the exit code. */
export async function runCommand(given: RunOptions, io: Io, resumePath?: string): Promise<number> {
  // a file that cannot be read is a ResultFileError (exit 2) from the reader itself
  const resumed = resumePath ? ResultSession.resume(resumePath) : undefined;
  const options = resumed ? { ...recordedRunOptions(resumed.run.options, resumePath!), json: given.json, format: given.format } : given;

  if (options.dryRun) {
    const plan = planRun(options);
    const planned = plan.cases.map((c) => ({ case: c, work: accountFor(c) }));
    io.out(
      options.json ? JSON.stringify({ backend: plan.backend, cases: planned.map((p) => ({ ...p.case, ...p.work })) }, null, 2) : planTable(planned),
    );
    return EXIT.ok;
  }

  const log = (line: string) => io.err(line);
  // read once, after the options have been checked, and said once: per-case notes then need not explain a busy host
  let hostCheck: Promise<HostCheck> | undefined;
  const checkHost = (o: { hostCases: boolean }) =>
    (hostCheck ??= readHostSignals().then((signals) => {
      const h = judgeHost(signals, o);
      const warning = hostWarning(h);
      if (warning) log(warning);
      return h;
    }));
  const perCard = resumed ? undefined : await cardsForDeviceAll(options, planRun(options).backend, log);
  const prepared: { p: PreparedRun; prefix: string }[] = [];
  let parallel = false;
  if (perCard) {
    const { schedule, runs } = perCardOptions(options, perCard.cards, perCard.backend);
    parallel = schedule.parallel;
    log(`moebench: --device all: ${perCard.cards.length} cards, one process each, ${schedule.why}`);
    for (const r of runs) {
      const prefix = `[gpu ${r.card.index}] `;
      prepared.push({
        p: await prepareRun(r.options, { argv: io.argv, log: (l) => log(prefix + l), probeEnv: { CUDA_VISIBLE_DEVICES: r.card.uuid }, checkHost }),
        prefix,
      });
    }
  } else {
    prepared.push({ p: await prepareRun(options, { argv: io.argv, log, checkHost }, resumed), prefix: '' });
  }

  const abort = new AbortController();
  const roundsStartedMs = Date.now();
  const stop = io.onInterrupt(() => {
    abort.abort();
    for (const { p, prefix } of prepared) io.err(`\n${prefix}${interruptedText(p)}`);
  });
  try {
    const rounds = prepared.map(
      ({ p, prefix }) =>
        () =>
          runRounds(p, { log: (l) => log(prefix + l), progress: (l) => (io.progress ?? io.err)(prefix + l) }, abort.signal),
    );
    if (parallel) await Promise.all(rounds.map((r) => r()));
    else for (const r of rounds) await r();
  } finally {
    stop();
  }
  if (!abort.signal.aborted && Date.now() - roundsStartedMs >= HOST_RECHECK_AFTER_MS) await recheckHost(prepared, log);
  for (const { p, prefix } of prepared) {
    const text = summaryText(p, options.format);
    if (options.format === 'csv') io.err(`${prefix}result file: ${p.session.path}`);
    io.out(
      prefix
        ? text
            .split('\n')
            .map((l) => prefix + l)
            .join('\n')
        : text,
    );
  }
  return prepared.some(({ p }) => failed(p)) ? EXIT.failed : EXIT.ok;
}
