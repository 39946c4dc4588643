import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuns } from '../results/runs.js';
import { ROOT, fakeScript, moebench, tinyRun } from './helpers/cli.js';

const FIX = join(import.meta.dirname, 'fixtures');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-output');

describe('moebench report in a real headless browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moebench-report-'));
  for (const f of ['compare-base.json', 'compare-cand.json', 'sizing-h100.json']) copyFileSync(join(FIX, f), join(dir, f));
  writeFileSync(join(dir, 'broken.json'), '{"tool": "moebench", "schemaVersion": "1.0", "cases": [');
  const out = join(dir, 'report.html');
  let browser: Browser;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: npm run setup:chromium (Debian's chromium package; .ci/run installs it)`).toBe(true);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('writes one self-contained page and names the unreadable file', () => {
    const r = moebench(['report', dir, '--out', out, '--scenario', 'seed', '--model', 'tiny', '--layout', 'ep=4']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/skipped .*broken.json: not valid JSON/);
    expect(r.stdout).toMatch(/report.html: 3 run\(s\), 14 case\(s\), 1 unreadable file\(s\) named on the page/);
  });

  it('two files of one card are compared file against file, as compare does; --by is obeyed', async () => {
    // the same run copied: one card, two files
    const again = join(dir, 'again', 'compare-base-again.json');
    mkdirSync(join(dir, 'again'), { recursive: true });
    copyFileSync(join(dir, 'compare-base.json'), again);
    const one = join(dir, 'one-card.html');
    const r = moebench(['report', join(dir, 'compare-base.json'), again, '--by', 'backend', '--out', one]);
    expect(r.status, r.stderr).toBe(0);
    const page = await browser.newPage();
    await page.goto(`file://${one}`);
    expect(await page.locator('body').textContent()).toMatch(/Only one card \(or side\) in these files/);
    const byFile = join(dir, 'by-file.html');
    expect(moebench(['report', join(dir, 'compare-base.json'), again, '--out', byFile]).status).toBe(0);
    await page.goto(`file://${byFile}`);
    expect(await page.locator('body').textContent()).toMatch(/sides by file/);
    expect(await page.locator('table.verdicts tbody tr').count()).toBeGreaterThan(0);
    await page.close();
  });

  it('loads without console errors or requests, and every chart has the expected marks', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (req) => !req.url().startsWith('file:') && requests.push(req.url()));
    await page.goto(`file://${out}`);
    const marks = await page.evaluate(() => {
      const charts = (
        window as unknown as { __moebenchCharts: Record<string, { data: { datasets: unknown[] }; getDatasetMeta(i: number): { data: unknown[] } }> }
      ).__moebenchCharts;
      return Object.fromEntries(
        Object.entries(charts).map(([k, c]) => [k, c.data.datasets.reduce((a: number, _d, i) => a + c.getDatasetMeta(i).data.length, 0)]),
      );
    });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);

    const runs = loadRuns([join(dir, 'compare-base.json'), join(dir, 'compare-cand.json'), join(dir, 'sizing-h100.json')]).runs;
    const measured = runs.flatMap((r) => r.cases).filter((c) => c.throughput);
    const ids = new Set(measured.map((c) => c.id));
    const series = new Set(measured.map((c) => `${c.device} · ${c.backend}`));
    const moeIds = [
      ...new Set(
        runs
          .flatMap((r) => r.cases)
          .filter((c) => c.workload.layer.kind === 'moe')
          .map((c) => c.id),
      ),
    ];
    const expected: Record<string, number> = {
      throughput: ids.size * series.size, // one bar slot per case and series
      // a point per case on a card with peaks, and three per ceiling (low end, ridge, high end): the fixtures' one card and dtype
      roofline:
        measured.filter((c) => c.roofline).length +
        3 * new Set(measured.filter((c) => c.roofline).map((c) => `${c.roofline!.card} ${c.roofline!.dtype}`)).size,
      // the fixtures hold two sweeps of five token counts: each its points plus the two ends of its fit line
      sweeps: 2 * (5 + 2),
    };
    moeIds.forEach((id, i) => {
      expected[`hist${i}`] = runs.flatMap((r) => r.cases).find((c) => c.id === id)!.work.expertTokens!.length;
    });
    expect(marks).toEqual(expected);
    expect(marks.throughput).toBe(9 * 3);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'report.png'))).toBe(true);

    // the roofline: the H100's fp32 ceilings ridge at 67 TFLOP/s ÷ 3.35 TB/s = 20 FLOP/byte, flat at 67,000 GFLOP/s;
    // each case sits at its FLOP per byte and achieved GFLOP/s
    const roof = await page.evaluate(() => {
      const chart = (
        window as unknown as { __moebenchCharts: Record<string, { data: { datasets: { label: string; data: { x: number; y: number }[] }[] } }> }
      ).__moebenchCharts.roofline;
      return chart.data.datasets.map((d) => ({ label: d.label, data: d.data.map((p) => [p.x, p.y]) }));
    });
    expect(roof[1].label).toMatch(/^NVIDIA H100 SXM5 80GB fp32 datasheet: 67 TFLOP\/s, 3\.35 TB\/s$/);
    expect(roof[1].data[1][0]).toBeCloseTo(20, 9);
    expect(roof[1].data[1][1]).toBeCloseTo(67_000, 6);
    expect(roof[1].data[2][1]).toBeCloseTo(67_000, 6);
    const withRoof = measured.filter((c) => c.roofline);
    expect(roof[0].data).toEqual(withRoof.map((c) => [c.work.flopsPerCall / c.work.bytesPerCall, c.throughput!.gflopsPerSec]));
    // the low end is on the bandwidth slope: 3,350 GB/s × a quarter of the lowest intensity
    const lowest = Math.min(...withRoof.map((c) => c.work.flopsPerCall / c.work.bytesPerCall));
    expect(roof[1].data[0][1]).toBeCloseTo(3350 * (lowest / 4), 6);

    // every bar with a measured case carries its 95% interval as an error bar
    const slots = new Set(measured.map((c) => `${c.device} · ${c.backend}\u0000${c.id}`));
    expect(await page.evaluate(() => (window as unknown as { __moebenchErrorBars: number }).__moebenchErrorBars)).toBe(slots.size);
    // one results table per file, a row per case, noisy and failed ones marked
    const allCases = runs.flatMap((r) => r.cases);
    expect(await page.locator('table.results').count()).toBe(runs.length);
    expect(await page.locator('table.results tbody tr').count()).toBe(allCases.length);
    expect(await page.locator('table.results tr.status-noisy').count()).toBe(allCases.filter((c) => c.status === 'noisy').length);
    expect(allCases.some((c) => c.status === 'noisy')).toBe(true);
    const first = await page.locator('table.results').first().locator('tbody tr').first().locator('td').allTextContents();
    expect(first.slice(0, 3)).toEqual([runs[0].cases[0].id, runs[0].cases[0].backend, runs[0].cases[0].device]);

    const verdicts = await page.locator('table.verdicts td:nth-last-child(2)').allTextContents();
    // the noisy pair says why it is only UNCERTAIN
    expect(await page.locator('table.verdicts td:last-child').allTextContents()).toContain('baseline noisy; candidate noisy');
    expect(verdicts).toEqual(expect.arrayContaining(['FASTER', 'SLOWER', 'SAME', 'UNCERTAIN']));
    expect(await page.locator('table.sizing').textContent()).toMatch(/measured: NVIDIA H100 SXM5 80GB/);
    // the sizing section names what was composed, and shows the cost and the sensitivity as size prints them
    expect(await page.locator('body').textContent()).toMatch(/Measured figures composed for tiny, layout ep=4/);
    expect(await page.locator('pre.cost').textContent()).toMatch(/API price \(published\)/);
    expect(await page.locator('pre.tornado').textContent()).toMatch(/^sensitivity \(each input at its low and high/);
    expect(await page.locator('.bad').textContent()).toMatch(/broken.json/);
    await page.close();
  });

  it("a run with roofline probes: its engine's measured ceilings on the roofline plot and each case's fraction of them", async () => {
    const file = join(dir, 'probed', 'probed.json');
    // probes: 1 token in 1 ms, 64 in 8 ms; the dense layer at 64 tokens in 36 ms, at 1 token in 2 ms
    const fake = fakeScript({ latenciesMs: [2], latencyByCase: { 'matmul/prefill/t1/': 1, 'matmul/prefill/t64/': 8, 'dense/prefill/t64/': 36 } });
    const run = moebench(tinyRun('fake', 'dense,matmul', 'prefill', '1,64', '--repetitions', '1', '--min-time-ms', '5', '--out', file), fake);
    expect(run.status, run.stderr).toBe(0);
    // the run's own table says the ceilings it measured and each case's share of them
    expect(run.stdout).toContain('measured roofline of fake on fake (scripted latencies): 0.0328 GFLOP/s fp32, 0.0087 GB/s');
    expect(run.stdout).toMatch(/^tiny\/dense\/prefill\/t64\/fp32 .* 50\.0%$/m);
    const html = join(dir, 'probed.html');
    expect(moebench(['report', file, '--out', html]).status).toBe(0);
    const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    await page.goto(`file://${html}`);
    const roof = await page.evaluate(() => {
      const chart = (
        window as unknown as {
          __moebenchCharts: Record<string, { data: { datasets: { label: string; borderDash: number[]; data: { x: number; y: number }[] }[] } }>;
        }
      ).__moebenchCharts.roofline;
      return chart.data.datasets.map((d) => ({ label: d.label, dash: d.borderDash, data: d.data.map((p) => [p.x, p.y]) }));
    });
    // four cases, every one under the measured ceilings of its engine
    expect(roof[0].data).toHaveLength(4);
    expect(roof).toHaveLength(2);
    // compute: 64 tokens × 2 products × 2·32·32 FLOPs in 8 ms = 0.032768 GFLOP/s; memory: one token moves 2 × 32·32·4
    // bytes of weights and 2 × 2 × 32·4 of activations, 8,704 B in 1 ms = 0.008704 GB/s; they meet at 3.7647 FLOP/byte
    expect(roof[1].label).toBe('fake (scripted latencies) · fake fp32 measured: 0.0328 GFLOP/s, 0.0087 GB/s');
    expect(roof[1].dash).toEqual([]);
    expect(roof[1].data[1][0]).toBeCloseTo(0.032768 / 0.008704, 9);
    expect(roof[1].data[1][1]).toBeCloseTo(0.032768, 12);
    expect(roof[1].data[2][1]).toBeCloseTo(0.032768, 12);
    // the results table: the dense layer at 64 tokens, 64 × 6·32·48 = 589,824 FLOPs (18 ms at the ceiling) and 3·32·48·4
    // + 2·64·32·4 = 34,816 bytes (4 ms) in 36 ms: 50.0% of the measured roofline; no datasheet row for the fake
    const row = await page.locator('table.results tbody tr', { hasText: 'tiny/dense/prefill/t64/fp32' }).locator('td').allTextContents();
    expect(row.slice(-2)).toEqual(['-', '50.0%']);
    const probe = await page.locator('table.results tbody tr', { hasText: 'tiny/matmul/prefill/t64/fp32' }).locator('td').allTextContents();
    expect(probe.at(-1)).toBe('100.0%');
    await page.close();
  });

  it('attention decode cases: time against context, one line per card, engine, model, batch and mode', async () => {
    const file = join(dir, 'attention', 'attention.json');
    const fake = fakeScript({ latenciesMs: [1], latencyByCase: { ctx4: 1, ctx16: 2, ctx64: 5 } });
    const run = moebench(
      tinyRun('fake', 'attention', 'decode', '2,4', '--context', '4,16,64', '--repetitions', '1', '--min-time-ms', '5', '--out', file),
      fake,
    );
    expect(run.status, run.stderr).toBe(0);
    const html = join(dir, 'attention.html');
    expect(moebench(['report', file, '--out', html]).status).toBe(0);
    const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    await page.goto(`file://${html}`);
    const lines = await page.evaluate(() => {
      const chart = (
        window as unknown as { __moebenchCharts: Record<string, { data: { datasets: { label: string; data: { x: number; y: number }[] }[] } }> }
      ).__moebenchCharts.attention;
      return chart.data.datasets.map((d) => ({ label: d.label, data: d.data.map((p) => [p.x, p.y]) }));
    });
    expect(lines).toEqual([
      {
        label: 'tiny GQA · 2 queries · fp32 · fake (scripted latencies) · fake',
        data: [
          [4, 1],
          [16, 2],
          [64, 5],
        ],
      },
      {
        label: 'tiny GQA · 4 queries · fp32 · fake (scripted latencies) · fake',
        data: [
          [4, 1],
          [16, 2],
          [64, 5],
        ],
      },
    ]);
    await page.close();
  });
});
