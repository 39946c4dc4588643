import { hostLine, testOf, verdictLevelText, verdictRuleText } from '../compare/format.js';
import type { Comparison } from '../compare/compare.js';
import { fitSweeps } from '../measure/sweep.js';
import type { Run } from '../results/runs.js';
import type { CaseResult, SlurmTask } from '../results/schema.js';
import { ceilingsOf, fractionOfCeilings } from '../results/ceilings.js';
import { fmt } from '../text/table.js';

/** The sizing part of a report: the scenario's table with assumed and, per card, measured figures. */
export interface ReportSizing {
  scenario: string;
  /** The model and layout the measured figures were composed for. */
  model: string;
  layout: string;
  rows: { label: string; stream: string; cards: [number, number]; servers: [number, number] }[];
  notes: string[];
  /** The assumed figures' cost and sensitivity, as `size` prints them. */
  costText: string;
  tornadoText: string;
}

export interface ReportInput {
  title: string;
  runs: Run[];
  comparison?: Comparison;
  sizing?: ReportSizing;
  /** Files that could not be read, named on the page. */
  bad: { path: string; reason: string }[];
  /** The `moebench slurm` tasks the collection gathers, each with how it ended. */
  slurmTasks?: SlurmTask[];
  generatedAt: string;
}

/** Data for the charts, computed here so the page script only draws. */
export function chartData(input: ReportInput) {
  const cases = input.runs.flatMap((r) => r.cases.map((c) => ({ run: r, c })));
  const measured = cases.filter(({ c }) => c.throughput);
  const caseIds = [...new Set(measured.map(({ c }) => c.id))];
  const series = [...new Set(measured.map(({ c }) => `${c.device} · ${c.backend}`))];
  // the first measurement of each case in each series, indexed once: a lab's collection has thousands of cases
  const first = new Map<string, CaseResult>();
  for (const { c } of measured) {
    const key = `${c.device} · ${c.backend}\u0000${c.id}`;
    if (!first.has(key)) first.set(key, c);
  }
  const at = (s: string, id: string) => first.get(`${s}\u0000${id}`);
  const throughput = {
    labels: caseIds,
    datasets: series.map((s) => ({
      label: s,
      data: caseIds.map((id) => at(s, id)?.throughput?.tokensPerSec ?? null),
      // the median's 95% interval as tokens/s (a slower time is fewer tokens/s): the page draws it as an error bar
      errorBars: caseIds.map((id) => tokensPerSecInterval(at(s, id))),
      // noisy bars are drawn pale: their interval missed the target
      noisy: caseIds.map((id) => at(s, id)?.status === 'noisy'),
    })),
  };
  const roofline = rooflinePlot(input.runs);
  const fits = fitSweeps(measured.map(({ c }) => c));
  const sweeps = fits.map((f) => ({
    label: `${f.key} · ${f.device} · ${f.backend}`,
    points: f.points.map((p) => ({ x: p.tokens, y: p.medianMs })),
    line: [f.points[0].tokens, f.points[f.points.length - 1].tokens].map((x) => ({ x, y: f.interceptMs + f.slopeMsPerToken * x })),
    rSquared: f.rSquared,
  }));
  const seen = new Set<string>();
  const histograms = cases
    .filter(({ c }) => c.work.expertTokens && c.workload.layer.kind === 'moe')
    .filter(({ c }) => {
      if (seen.has(c.id)) return false;
      seen.add(c.id);
      return true;
    })
    .slice(0, 8)
    .map(({ c }) => ({ label: c.id, data: c.work.expertTokens! }));
  return { throughput, roofline, sweeps, histograms, attention: attentionByContext(measured.map(({ c }) => c)) };
}

/**
 * Attention decode's median time against the context its queries read, one line per card, engine,
 * model, batch and math mode: the KV-cache term, measured.
 */
function attentionByContext(cases: readonly CaseResult[]) {
  const lines = new Map<string, { x: number; y: number }[]>();
  for (const c of cases) {
    const w = c.workload;
    const layer = w.layer;
    if (layer.kind !== 'attention' || w.phase !== 'decode' || !c.summary || w.context === undefined) continue;
    const spread = w.contextSpread ? ` (caches down to ×${1 - w.contextSpread})` : '';
    const key = `${w.preset} ${layer.form.toUpperCase()}${w.attnImpl === 'fused' ? ' fused' : ''} · ${w.numTokens} queries${spread} · ${w.dtype} · ${c.device} · ${c.backend}`;
    (lines.get(key) ?? lines.set(key, []).get(key)!).push({ x: w.context!, y: c.summary.medianMs });
  }
  return [...lines].map(([label, points]) => ({ label, points: points.sort((a, b) => a.x - b.x) }));
}

/**
 * A roofline plot's data: each case at its arithmetic intensity (FLOP per byte moved) and achieved
 * GFLOP/s, and the ceilings it runs under, min(peak FLOP/s, bandwidth × intensity), from a quarter
 * of the lowest intensity to four times the highest, through the ridge point where the two meet:
 * its card's datasheet ceilings for its math mode where the card has a datasheet row, and its
 * engine's ceilings measured by the run's roofline probes where there are any.
 */
function rooflinePlot(runs: ReportInput['runs']) {
  const points: { label: string; x: number; y: number }[] = [];
  const roofs = new Map<string, { label: string; kind: 'datasheet' | 'measured'; peakGflops: number; gbytesPerSec: number }>();
  for (const run of runs) {
    for (const c of run.cases) {
      if (!c.throughput || !(c.work.bytesPerCall > 0) || !(c.work.flopsPerCall > 0)) continue;
      const r = c.roofline;
      const g = ceilingsOf(run.cases, c);
      const measured = g?.gflopsPerSec[c.workload.dtype] && g.gbytesPerSec ? g : undefined;
      if (!r && !measured) continue;
      points.push({
        label: `${c.id} · ${c.backend} · ${r ? r.card : c.device}`,
        x: c.work.flopsPerCall / c.work.bytesPerCall,
        y: c.throughput.gflopsPerSec,
      });
      if (r) {
        roofs.set(`d\u0000${r.card}\u0000${r.dtype}`, {
          label: `${r.card} ${r.dtype} datasheet: ${fmt(r.peakTflops, 4)} TFLOP/s, ${fmt(r.peakTBps, 3)} TB/s`,
          kind: 'datasheet',
          peakGflops: r.peakTflops * 1000,
          gbytesPerSec: r.peakTBps * 1000,
        });
      }
      if (measured) {
        const dtype = c.workload.dtype;
        const peak = measured.gflopsPerSec[dtype]!.value;
        roofs.set(`m\u0000${measured.device}\u0000${measured.backend}\u0000${dtype}`, {
          label: `${measured.device} · ${measured.backend} ${dtype} measured: ${fmt(peak, 3)} GFLOP/s, ${fmt(measured.gbytesPerSec!.value, 3)} GB/s`,
          kind: 'measured',
          peakGflops: peak,
          gbytesPerSec: measured.gbytesPerSec!.value,
        });
      }
    }
  }
  const xs = points.map((p) => p.x);
  const ceilings = [...roofs.values()].map((r) => {
    const ridge = r.peakGflops / r.gbytesPerSec;
    const lo = Math.min(...xs, ridge) / 4;
    const hi = Math.max(...xs, ridge) * 4;
    return { label: r.label, kind: r.kind, points: [lo, ridge, hi].map((x) => ({ x, y: Math.min(r.peakGflops, r.gbytesPerSec * x) })) };
  });
  return { points, ceilings };
}

/** A case's 95% interval of the median in tokens/s, or null; low from the interval's slow end. */
function tokensPerSecInterval(c: CaseResult | undefined): [number, number] | null {
  if (!c?.throughput || !c.summary) return null;
  const [lowMs, highMs] = c.summary.medianCi95Ms;
  const tps = c.throughput.tokensPerSec;
  return [(tps * c.summary.medianMs) / highMs, (tps * c.summary.medianMs) / lowMs];
}

/** Every file's cases as numbers: what the charts draw, readable and searchable. */
function resultsTables(runs: ReportInput['runs']): string {
  return runs
    .map((r) => {
      const rows = r.cases.map((c) => {
        const ci = c.summary ? `±${(c.summary.medianCiRelHalfWidth * 100).toFixed(1)}%` : '-';
        const roof = c.roofline ? `${(c.roofline.fraction * 100).toFixed(1)}% of ${c.roofline.card}` : '-';
        const g = ceilingsOf(r.cases, c);
        const fraction = g ? fractionOfCeilings(c, g) : undefined;
        const noisy = g && [g.gflopsPerSec[c.workload.dtype], g.gbytesPerSec].some((x) => x?.status === 'noisy') ? ' (noisy probe)' : '';
        const measured = fraction === undefined ? '-' : `${(fraction * 100).toFixed(1)}%${noisy}`;
        const cells = [c.id, c.backend, c.device, c.throughput ? fmt(c.throughput.tokensPerSec, 4) : '-', ci, c.status, roof, measured];
        return `<tr class="status-${esc(c.status)}">${cells.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`;
      });
      const head = ['case', 'engine', 'card', 'tokens/s', '95% CI', 'status', 'of datasheet roofline', 'of measured roofline']
        .map((h) => `<th>${h}</th>`)
        .join('');
      return `<h3>${esc(r.source)}</h3><table class="results"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
    })
    .join('\n');
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
function table(head: string[], rows: (string | number)[][], cls = ''): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** One self-contained HTML page: the chart library is inlined, the data embedded; nothing is fetched at view time. Pure. */
export function renderReport(input: ReportInput, chartLibrarySource: string): string {
  const data = chartData(input);
  const c = input.comparison;
  const comparisonHtml = c
    ? `<p>Baseline: <b>${esc(c.baseline)}</b>, sides by ${esc(c.by)}. Intervals from Welch's t over processes where each side has two or more (over runs where a side has several), else a bootstrap over calls; ${esc(verdictRuleText(c))}</p>` +
      (c.envDifferences.length
        ? `<h3>Environment differences</h3>${table(
            ['field', ...c.sides.map((s) => s.label)],
            c.envDifferences.map((d) => [d.field, ...c.sides.map((s) => d.values[s.label] ?? '-')]),
          )}`
        : '') +
      (c.host.quiet ? '' : `<p class="note">${esc(hostLine(c))}</p>`) +
      table(
        [
          'case',
          'backend',
          'candidate',
          'baseline tokens/s',
          'candidate tokens/s',
          'ratio',
          `${verdictLevelText(c.alpha)} CI`,
          'p',
          'test',
          'verdict',
          'note',
        ],
        c.pairs.map((p) => [
          p.row.id,
          p.row.backend ?? '',
          p.candidate,
          fmt(p.baselineTokensPerSec, 4),
          fmt(p.candidateTokensPerSec, 4),
          p.ratio.toFixed(3),
          `[${p.verdictCi[0].toFixed(3)}, ${p.verdictCi[1].toFixed(3)}]`,
          p.p < 1e-4 ? '<1e-4' : p.p.toFixed(4),
          testOf(p),
          p.verdict,
          p.warnings?.join('; ') ?? '',
        ]),
        'verdicts',
      ) +
      (c.unmatched.length
        ? `<p>On some sides only: ${c.unmatched.map((u) => `${esc(u.row.id)} (only in ${esc(u.presentIn.join(', '))})`).join('; ')}</p>`
        : '') +
      (c.unmeasured.length
        ? `<p>Not compared, no case measured: ${c.unmeasured.map((u) => `${esc(u.source)} (${esc(u.statuses)})`).join('; ')}</p>`
        : '')
    : '<p>Only one card (or side) in these files: nothing to compare.</p>';
  const envHtml = input.runs
    .map((r) => {
      const e = r.environment;
      const rows: [string, string][] = [
        ['source', r.source],
        ['host', e.host],
        ['os', `${e.os.platform} ${e.os.release} ${e.os.arch}`],
        ['cpu', `${e.cpu.model}, ${e.cpu.cores} cores`],
        ['memory', `${(e.memoryBytes / 1024 ** 3).toFixed(0)} GiB`],
        ['node', e.node],
        ['moebench', `${e.moebench.version} ${e.moebench.gitSha ?? ''}`],
        ['backends', e.backendsAvailable.join(', ')],
        [
          'gpus',
          e.gpus
            .map((g) => `${g.index}: ${g.name} (driver ${g.driverVersion ?? '-'}, ${g.maxSmClockMHz ?? '-'} MHz max, ${g.powerLimitW ?? '-'} W)`)
            .join('; ') || 'none',
        ],
        [
          'packages',
          Object.entries(e.packages)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ],
        ['command', e.commandLine.join(' ')],
        ['started', e.startedAt],
        ['ended', e.endedAt ?? '(interrupted)'],
      ];
      return `<details><summary>${esc(r.source)}: ${esc(e.host)}, ${esc(r.run.device)}</summary>${table(['field', 'value'], rows)}</details>`;
    })
    .join('\n');
  const sizingHtml = input.sizing
    ? `<h2>Sizing: ${esc(input.sizing.scenario)}</h2><p>Measured figures composed for <b>${esc(input.sizing.model)}</b>, layout <b>${esc(input.sizing.layout)}</b>.</p>${table(
        ['per-card figures', 'stream', 'cards', 'servers'],
        input.sizing.rows.map((r) => [
          r.label,
          r.stream,
          `${r.cards[0].toLocaleString('en-US')} – ${r.cards[1].toLocaleString('en-US')}`,
          `${r.servers[0].toLocaleString('en-US')} – ${r.servers[1].toLocaleString('en-US')}`,
        ]),
        'sizing',
      )}${input.sizing.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('')}${
        input.sizing.costText ? `<pre class="cost">${esc(input.sizing.costText)}</pre>` : ''
      }<pre class="tornado">${esc(input.sizing.tornadoText)}</pre>`
    : '';
  const badHtml = input.bad.length
    ? `<div class="bad"><b>Files left out:</b><ul>${input.bad.map((b) => `<li>${esc(b.path)}: ${esc(b.reason)}</li>`).join('')}</ul></div>`
    : '';
  const tasks = input.slurmTasks ?? [];
  const failedTasks = tasks.filter((t) => t.outcome !== 'done');
  const slurmHtml = tasks.length
    ? `<div class="${failedTasks.length ? 'bad' : 'note'}"><b>Slurm tasks:</b> ${tasks.length - failedTasks.length} of ${tasks.length} done${
        failedTasks.length
          ? `<ul>${failedTasks.map((t) => `<li>task ${esc(`${t.arrayJobId}_${t.taskId}`)}: ${esc(t.outcome)}${t.node ? ` on ${esc(t.node)}` : ''}${t.reason ? `: ${esc(t.reason)}` : ''} (log ${esc(t.log)})</li>`).join('')}</ul>`
          : ''
      }</div>`
    : '';
  const histCanvases = data.histograms.map((_, i) => `<div class="chart small"><canvas id="hist${i}"></canvas></div>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
pre{font-size:.8rem;background:#fafafa;border:1px solid #eee;padding:.5rem;overflow-x:auto}
th{background:#f4f4f4}.chart{position:relative;height:380px;margin:1rem 0}.chart.small{height:220px;display:inline-block;width:48%}
.bad{background:#fff3f3;border:1px solid #e99;padding:.5rem}
tr.status-noisy td{background:#fff8e1}tr.status-invalid td,tr.status-failed td{background:#fdecea}tr.status-skipped td{color:#888}.note{color:#555;font-size:.85rem}
</style></head><body>
<h1>${esc(input.title)}</h1>
<p class="note">${input.runs.length} run(s), ${input.runs.reduce((a, r) => a + r.cases.length, 0)} case(s). Generated ${esc(input.generatedAt)} by moebench.</p>
${badHtml}${slurmHtml}
<h2>Throughput per case, by card and engine</h2><div class="chart"><canvas id="throughput"></canvas></div>
<p class="note">Bars are medians with their 95% interval; pale bars are noisy cases, whose interval missed the target.</p>
<h2>Results</h2>${resultsTables(input.runs)}
<h2>Time against tokens</h2>${data.sweeps.length ? '<div class="chart"><canvas id="sweeps"></canvas></div>' : '<p class="note">No workload was measured at three or more token counts (moebench run --sweep tokens=...).</p>'}
<h2>Roofline: achieved GFLOP/s against arithmetic intensity</h2>${data.roofline.points.length ? '<div class="chart"><canvas id="roofline"></canvas></div><p class="note">Each case at its FLOP per byte moved, under its card\'s datasheet ceilings (dashed) and its engine\'s ceilings measured by the roofline probes (solid): memory bandwidth × intensity, then the peak FLOP/s of its math mode. The results table gives each case\'s fraction of both.</p>' : '<p class="note">No case ran on a card with datasheet peaks, and no file holds roofline probes (moebench run --suite roofline, or --roofline).</p>'}
<h2>Attention decode: time against context</h2>${data.attention.length ? '<div class="chart"><canvas id="attention"></canvas></div><p class="note">Median time of one decode step of the attention layer against the tokens in each query\'s KV cache, per card, engine, model, batch and math mode.</p>' : '<p class="note">No attention decode case (moebench run --layer attention --context 1024,4096,...).</p>'}
<h2>MoE routing: tokens per expert</h2>${histCanvases || '<p class="note">No MoE cases.</p>'}
<h2>Comparison</h2>${comparisonHtml}
${sizingHtml}
<h2>Environments</h2>${envHtml}
<script>${chartLibrarySource.replace(/<\/script/gi, '<\\/script')}</script>
<script id="moebench-data" type="application/json">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>
<script>
(function () {
  const data = JSON.parse(document.getElementById('moebench-data').textContent);
  const charts = {};
  const opts = (extra) => Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, extra || {});
  // Chart.js has no error bars: each bar's interval is drawn over it, and counted for the page's test
  let errorBars = 0;
  const intervals = { id: 'moebenchIntervals', afterDatasetsDraw(chart) {
    const ctx = chart.ctx, y = chart.scales.y;
    errorBars = 0;
    chart.data.datasets.forEach((d, i) => {
      if (!d.errorBars || chart.getDatasetMeta(i).hidden) return;
      chart.getDatasetMeta(i).data.forEach((bar, j) => {
        const ci = d.errorBars[j];
        if (!ci) return;
        const [top, bottom] = [y.getPixelForValue(ci[1]), y.getPixelForValue(ci[0])];
        ctx.save(); ctx.strokeStyle = '#222'; ctx.lineWidth = 1; ctx.beginPath();
        ctx.moveTo(bar.x, top); ctx.lineTo(bar.x, bottom);
        ctx.moveTo(bar.x - 3, top); ctx.lineTo(bar.x + 3, top); ctx.moveTo(bar.x - 3, bottom); ctx.lineTo(bar.x + 3, bottom);
        ctx.stroke(); ctx.restore();
        errorBars++;
      });
    });
    window.__moebenchErrorBars = errorBars;
  } };
  const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];
  data.throughput.datasets.forEach((d, i) => {
    const color = palette[i % palette.length];
    d.backgroundColor = d.noisy.map((n) => (n ? color + '55' : color));
    d.borderColor = color;
    d.borderWidth = 1;
  });
  charts.throughput = new Chart(document.getElementById('throughput'), { type: 'bar', data: data.throughput, plugins: [intervals],
    options: opts({ scales: { y: { type: 'logarithmic', title: { display: true, text: 'tokens/s' } } } }) });
  if (data.sweeps.length) {
    const datasets = [];
    data.sweeps.forEach((s) => {
      datasets.push({ type: 'scatter', label: s.label, data: s.points });
      datasets.push({ type: 'line', label: s.label + ' fit (R² ' + s.rSquared.toFixed(3) + ')', data: s.line, pointRadius: 0 });
    });
    charts.sweeps = new Chart(document.getElementById('sweeps'), { type: 'scatter', data: { datasets },
      options: opts({ scales: { x: { title: { display: true, text: 'tokens per call' } }, y: { title: { display: true, text: 'median ms' } } } }) });
  }
  if (data.roofline.points.length) {
    const datasets = [{ type: 'scatter', label: 'cases', data: data.roofline.points }];
    data.roofline.ceilings.forEach((c) => datasets.push({ type: 'line', label: c.label, data: c.points, pointRadius: 0, borderDash: c.kind === 'measured' ? [] : [6, 3] }));
    charts.roofline = new Chart(document.getElementById('roofline'), { type: 'scatter', data: { datasets },
      options: opts({
        plugins: { tooltip: { callbacks: { label: (ctx) => (ctx.raw.label ? ctx.raw.label + ': ' : '') + ctx.raw.y.toPrecision(3) + ' GFLOP/s at ' + ctx.raw.x.toPrecision(3) + ' FLOP/byte' } } },
        scales: {
          x: { type: 'logarithmic', title: { display: true, text: 'arithmetic intensity (FLOP per byte)' } },
          y: { type: 'logarithmic', title: { display: true, text: 'GFLOP/s' } },
        },
      }) });
  }
  if (data.attention.length) {
    charts.attention = new Chart(document.getElementById('attention'), { type: 'line',
      data: { datasets: data.attention.map((l) => ({ label: l.label, data: l.points })) },
      options: opts({ scales: {
        x: { type: 'logarithmic', title: { display: true, text: 'tokens of context' } },
        y: { type: 'logarithmic', title: { display: true, text: 'median ms' } },
      } }) });
  }
  data.histograms.forEach((h, i) => {
    charts['hist' + i] = new Chart(document.getElementById('hist' + i), { type: 'bar',
      data: { labels: h.data.map((_, e) => String(e)), datasets: [{ label: h.label, data: h.data }] },
      options: opts({ plugins: { legend: { labels: { boxWidth: 10, font: { size: 10 } } } }, scales: { x: { title: { display: true, text: 'expert' } } } }) });
  });
  window.__moebenchCharts = charts;
})();
</script>
</body></html>
`;
}
