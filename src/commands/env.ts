import { probeBackend } from '../run/isolate.js';
import { createBackends } from '../backends/registry.js';
import { cudaProviderState, ortCudaLibraryCheck, ortNativeDir } from '../backends/ort.js';
import { tfjsGpuLibraryCheck } from '../backends/tfjs/backend.js';
import type { LibraryCheck } from '../env/cudaLibraries.js';
import { visibleCards } from '../env/cards.js';
import { queryGpus } from '../env/gpus.js';
import { gitSha, moebenchVersion, packageVersions, RECORDED_ENV_VARS } from '../env/machine.js';
import { formatTable, TERMINAL_COLUMNS, wrap } from '../text/table.js';
import { hostname } from 'node:os';
import { EXIT } from '../errors.js';
import { writeFileDurable } from '../files/durable.js';
import { selfCheck } from '../run/selfCheck.js';
import type { Io } from './io.js';

/** `moebench env`: what can run here, what cannot and why, and what a result file will record. */
export async function envCommand(io: Io, json: boolean, check?: { out?: string; modelDir: string }): Promise<number> {
  if (check) return checkCommand(io, json, check);
  const backends = createBackends();
  const probes = await Promise.all(Object.values(backends).map(async (b) => ({ name: b.name, probe: await probeBackend(b) })));
  const cuda = cudaProviderState();
  const gpus = queryGpus();
  const cudaVisible = process.env.CUDA_VISIBLE_DEVICES;
  const visible = visibleCards(gpus, cudaVisible);
  const versions = { moebench: moebenchVersion(), gitSha: gitSha(), node: process.version, ...packageVersions() };
  const envVars = Object.fromEntries(RECORDED_ENV_VARS.filter((v) => process.env[v]).map((v) => [v, process.env[v]]));
  const libraries = [ortCudaLibraryCheck(), tfjsGpuLibraryCheck()];
  const cudaProvider = cuda.installed
    ? `installed in ${cuda.dir}`
    : `not installed (${cuda.missing.join(', ')} missing in ${cuda.dir}); run npm run setup:cuda on a box with internet, or copy the files there (README)`;
  if (json) {
    io.out(
      JSON.stringify(
        {
          backends: probes,
          cudaProvider: { ...cuda },
          cudaLibraries: libraries,
          gpus,
          cudaCards: visible?.map((g) => g.index) ?? null,
          versions,
          envVars,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const rows = withDetailClipped([
    ['backend', 'status', 'detail'],
    ...probes.map(({ name, probe }) =>
      probe.available
        ? [name, 'available', `${probe.detail}${probe.hardware ? '' : ' (runs on the CPU)'}`]
        : [name, 'unavailable', probe.reason.split('; ')[0]],
    ),
  ]);
  // reasons and fixes name libraries and commands in full: wrapped to 120 columns, never cut
  const unavailable = probes.flatMap(({ name, probe }) =>
    probe.available
      ? []
      : [...wrap(`  ${name}: ${probe.reason}`, TERMINAL_COLUMNS, '    '), ...wrap(`    fix: ${probe.fix}`, TERMINAL_COLUMNS, '      ')],
  );
  const lines = [
    formatTable(rows),
    ...(unavailable.length ? ['', 'why and the fix:', ...unavailable] : []),
    '',
    ...wrap(`CUDA execution provider: ${cudaProvider}`, TERMINAL_COLUMNS, '  '),
    // the folder is one word: a long checkout path takes a line of its own
    ...wrap(`onnxruntime native folder: ${ortNativeDir()}`, TERMINAL_COLUMNS, '  '),
    '',
    'CUDA libraries the CUDA engines need, against what the loader finds (ldconfig -p, LD_LIBRARY_PATH):',
    ...libraries.flatMap(libraryLines),
    '',
    gpus.length
      ? formatTable([
          ['gpu', 'name', 'memory MiB', 'driver', 'SM MHz', 'max SM MHz', 'power W', 'temp C'],
          ...gpus.map((g) => [
            String(g.index),
            g.name,
            String(g.memoryTotalMiB ?? '-'),
            g.driverVersion ?? '-',
            String(g.smClockMHz ?? '-'),
            String(g.maxSmClockMHz ?? '-'),
            String(g.powerLimitW ?? '-'),
            String(g.temperatureC ?? '-'),
          ]),
        ])
      : 'GPUs: none found (no nvidia-smi); the host CPU is the card',
    ...(gpus.length && cudaVisible !== undefined
      ? [
          visible === undefined
            ? `CUDA_VISIBLE_DEVICES=${cudaVisible} names MIG devices: --device is passed to CUDA as its own device number`
            : `CUDA_VISIBLE_DEVICES=${cudaVisible} leaves ${visible.length ? `card(s) ${visible.map((g) => g.index).join(', ')}` : 'no card'} to the CUDA engines (ort-cuda, tfjs-node-gpu)`,
        ]
      : []),
    '',
    'recorded versions:',
    ...Object.entries(versions).map(([k, v]) => `  ${k}: ${v ?? '-'}`),
    ...(Object.keys(envVars).length ? ['environment:', ...Object.entries(envVars).map(([k, v]) => `  ${k}=${v}`)] : []),
  ];
  io.out(lines.join('\n'));
  return 0;
}

function libraryLines(c: LibraryCheck): string[] {
  const head = `  ${c.needs.engine}: CUDA ${c.needs.cudaMajor}, cuDNN ${c.needs.cudnnMajor} (from ${c.needs.source})`;
  if (!c.problem) return wrap(`${head}: all ${c.found.length} found`, TERMINAL_COLUMNS, '    ');
  return [...wrap(head, TERMINAL_COLUMNS, '    '), ...wrap(`    ${c.problem}`, TERMINAL_COLUMNS, '      ')];
}

/**
 * A table whose last column (the detail) is cut to what the others leave of a terminal's width;
 * the whole text is in the list below the table.
 */
function withDetailClipped(rows: string[][]): string[][] {
  const last = rows[0].length - 1;
  const used = rows[0].slice(0, last).reduce((sum, _, i) => sum + Math.max(...rows.map((r) => r[i].length)) + 2, 0);
  const chars = TERMINAL_COLUMNS - used;
  return rows.map((r) => [...r.slice(0, last), r[last].length > chars ? `${r[last].slice(0, chars - 1)}…` : r[last]]);
}

/** `moebench env --check`: one line per engine and card (works, wrong numbers, fails, unavailable); --out keeps it as JSON. */
async function checkCommand(io: Io, json: boolean, o: { out?: string; modelDir: string }): Promise<number> {
  const started = Date.now();
  const checks = await selfCheck(Object.values(createBackends()), { modelDir: o.modelDir, progress: (line) => (io.progress ?? io.err)(line) });
  const report = {
    tool: 'moebench',
    kind: 'env-check',
    host: hostname(),
    checkedAt: new Date().toISOString(),
    versions: versionsHere(),
    gpus: queryGpus(),
    checks,
  };
  if (o.out) writeFileDurable(o.out, `${JSON.stringify(report, null, 2)}\n`, 'check report');
  if (json) {
    io.out(JSON.stringify(report, null, 2));
  } else {
    // a device's name in the table, its description once under it: the H200 box's CPU engines'
    // "cpu (Intel(R) Xeon(R) Processor, 16 cores, 126 GiB)" in every row ran the table to 190 columns
    const short = (device: string | undefined) => (device === undefined ? '-' : device.split(' (')[0]);
    const rows = withDetailClipped([
      ['engine', 'device', 'verdict', 'detail'],
      ...checks.map((c) => [c.backend, short(c.device), c.verdict, c.detail.split('; ')[0]]),
    ]);
    const devices = [...new Set(checks.flatMap((c) => (c.device && c.device !== short(c.device) ? [c.device] : [])))].map(
      (d) => `${short(d)} = ${d.slice(short(d).length + 2, -1)}`,
    );
    const fixes = checks
      .filter((c) => c.verdict !== 'works')
      .flatMap((c) => [
        ...wrap(`  ${c.backend}: ${c.detail}`, TERMINAL_COLUMNS, '    '),
        ...(c.fix ? wrap(`    fix: ${c.fix}`, TERMINAL_COLUMNS, '      ') : []),
      ]);
    const works = checks.filter((c) => c.verdict === 'works').length;
    io.out(
      [
        formatTable(rows),
        ...(devices.length ? wrap(`devices: ${devices.join('; ')}`) : []),
        ...(checks.some((c) => c.verdict === 'works')
          ? wrap("works: the tiny MoE and dense cases' median time a call (not a measurement); error: the worst relative L2 error")
          : []),
        ...(fixes.length ? ['', 'why and the fix:', ...fixes] : []),
        '',
        `${works} of ${checks.length} engine(s) work here (checked in ${((Date.now() - started) / 1000).toFixed(0)} s)${o.out ? `; written to ${o.out}` : ''}`,
      ].join('\n'),
    );
  }
  // an engine that loads but computes wrong numbers, or fails, is what a bug report is for
  return checks.some((c) => c.verdict === 'wrong numbers' || c.verdict === 'fails') ? EXIT.failed : EXIT.ok;
}

function versionsHere(): Record<string, string | undefined> {
  return { moebench: moebenchVersion(), gitSha: gitSha(), node: process.version, ...packageVersions() };
}
