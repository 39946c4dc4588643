import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResultFile } from '../results/io.js';
import type { CaseResult } from '../results/schema.js';
import { compose, denseAt, measuredCard, parseLayout, type PhaseComposition } from '../sizing/compose.js';
import { sizeScenario } from '../sizing/model.js';
import { linkFor } from '../sizing/link.js';
import { rooflineBound } from '../sizing/roofline.js';
import { findCardPeak } from '../env/datasheets.js';
import { loadScenario, parseScenario } from '../sizing/scenario.js';
import { tornado } from '../sizing/tornado.js';
import { PRESETS } from '../workloads/presets.js';
import { caseId } from '../workloads/spec.js';
import { fakeScript, moebench, TINY_FAKE_RUN } from './helpers/cli.js';

const FIXTURE_H100 = join(import.meta.dirname, 'fixtures', 'sizing-h100.json');
const FIXTURE_H20 = join(import.meta.dirname, 'fixtures', 'sizing-h20.json');
const nearestThousand = (x: number) => Math.round(x / 1000) * 1000;

// a consistency check of the scenario's assumptions (some back-solved from the table), not a validation of the forecast
describe('seed.json: its assumptions reproduce the published table (a consistency check, not a validation)', () => {
  const s = sizeScenario(loadScenario('seed'));
  const [user, api] = s.streams;

  it('user interactions: 77,000–108,000 cards and 19,000–27,000 servers to the nearest thousand', () => {
    expect(user.name).toBe('user');
    expect([nearestThousand(user.cards.low), nearestThousand(user.cards.high)]).toEqual([77_000, 108_000]);
    expect([nearestThousand(user.servers.low), nearestThousand(user.servers.high)]).toEqual([19_000, 27_000]);
  });

  it('API calls: 14,000–21,000 cards to the nearest thousand and 3,376–5,144 servers exactly', () => {
    expect(api.name).toBe('api');
    expect([nearestThousand(api.cards.low), nearestThousand(api.cards.high)]).toEqual([14_000, 21_000]);
    expect(api.servers).toEqual({ low: 3376, high: 5144 });
  });

  it('every assumption says whether it is published, derived or assumed', () => {
    const scenario = loadScenario('seed');
    const figures = [...scenario.streams.flatMap((st) => Object.values(st)), ...Object.values(scenario.card)].filter((f) => typeof f === 'object');
    expect(figures.length).toBeGreaterThan(10);
    for (const f of figures) expect(['published', 'derived', 'assumed']).toContain((f as { basis?: string }).basis);
  });
});

const single = {
  name: 'one',
  description: 'hand-computed',
  streams: [{ name: 'chat', inputTokensPerDay: 8.64e9, outputTokensPerDay: 8.64e8, peakToAverage: 2 }],
  card: { prefillTokensPerSecPerCard: 10_000, decodeTokensPerSecPerCard: 1_000, utilization: 0.5, cardsPerServer: 8 },
  cost: { currency: 'USD', cardHourPrice: 2 },
};

describe('seed-api-price.json: the decode throughput the published API price implies', () => {
  const scenario = loadScenario('seed-api-price');
  it('its decode figure is 1.5 × 1e6 × the card-hour price / (3600 × 0.5 × 16 RMB): 520.83 at 10 RMB an hour, 781.25 at 15', () => {
    expect(scenario.card.decodeTokensPerSecPerCard).toMatchObject({ low: 520.83, high: 781.25, basis: 'derived' });
  });
  it('at that throughput the decode cards cost the published 16 RMB per million output tokens', () => {
    for (const [price, tps] of [
      [10, 520.83],
      [15, 781.25],
    ]) {
      const fixed = parseScenario({
        ...scenario,
        card: { ...scenario.card, decodeTokensPerSecPerCard: tps },
        cost: { ...scenario.cost!, cardHourPrice: price },
      });
      const [api] = sizeScenario(fixed).streams;
      expect(api.cost!.perMillionOutputTokens.low).toBeCloseTo(16, 3);
    }
  });
  it('beside the roofline bound, its decode figure is labelled derived, not assumed', () => {
    const r = moebench([
      'size',
      '--scenario',
      'seed-api-price',
      '--model',
      'deepseek-v3',
      '--card',
      'NVIDIA H800',
      '--layout',
      'ep=32',
      '--roofline',
    ]);
    expect(r.status, r.stderr).toBe(0);
    // each set of figures named on a line of its own, its streams' rows under it
    expect(r.stdout).toMatch(/^assumed, derived\n {2}api\s+4,000\s+520\.8 – 781\.3\s/m);
  });
  it('every figure says whether it is published, derived or assumed', () => {
    const figures = [...scenario.streams.flatMap((st) => Object.values(st)), ...Object.values(scenario.card)].filter((f) => typeof f === 'object');
    for (const f of figures) expect(['published', 'derived', 'assumed']).toContain((f as { basis?: string }).basis);
  });
});

describe('the sizing model, against hand-computed scenarios', () => {
  it('one stream with tokens per day given directly', () => {
    // peak in 8.64e9/86400·2 = 200,000 tok/s → 20 cards; peak out 20,000 tok/s → 20 cards; ÷ 0.5 → 80
    const [x] = sizeScenario(parseScenario(single)).streams;
    expect(x.peakInputTokensPerSec).toEqual({ low: 200_000, high: 200_000 });
    expect(x.cardsExact.low).toBeCloseTo(80, 9);
    expect(x.cards).toEqual({ low: 80, high: 80 });
    expect(x.servers).toEqual({ low: 10, high: 10 });
    // 80 cards × 24 h × 2 = 3,840 a day; prefill's 40 cards cost 1,920 for 8,640 M input tokens
    expect(x.cost!.perDay).toEqual({ low: 3840, high: 3840 });
    expect(x.cost!.perMillionInputTokens.low).toBeCloseTo(1920 / 8640, 12);
    expect(x.cost!.perMillionOutputTokens.low).toBeCloseTo(1920 / 864, 12);
  });

  it('units × queries × tokens per query gives the same demand', () => {
    const perUnit = {
      ...single,
      streams: [{ name: 'chat', unitsPerDay: 1e6, queriesPerUnit: 8.64, inputTokensPerQuery: 1000, outputTokensPerQuery: 100, peakToAverage: 2 }],
    };
    expect(sizeScenario(parseScenario(perUnit)).streams[0].cards).toEqual({ low: 80, high: 80 });
  });

  it('ranges propagate: low pairs low demand with high throughput, high the reverse', () => {
    const ranged = {
      ...single,
      streams: [
        { name: 'chat', inputTokensPerDay: { low: 4.32e9, high: 8.64e9 }, outputTokensPerDay: { low: 4.32e8, high: 8.64e8 }, peakToAverage: 2 },
      ],
      card: { ...single.card, decodeTokensPerSecPerCard: { low: 500, high: 1000 } },
    };
    const [x] = sizeScenario(parseScenario(ranged)).streams;
    // low: (100,000/10,000 + 10,000/1,000)/0.5 = 40; high: (200,000/10,000 + 20,000/500)/0.5 = 120
    expect(x.cardsExact.low).toBeCloseTo(40, 9);
    expect(x.cardsExact.high).toBeCloseTo(120, 9);
    expect(x.servers).toEqual({ low: 5, high: 15 });
  });

  it('rounds cards and servers up, and keeps the unrounded card-equivalents', () => {
    const odd = { ...single, card: { ...single.card, utilization: 0.7 } };
    const [x] = sizeScenario(parseScenario(odd)).streams;
    expect(x.cardsExact.low).toBeCloseTo(40 / 0.7, 9); // 57.14
    expect(x.cards.low).toBe(58);
    expect(x.servers.low).toBe(8);
  });

  it('the tornado ranks a dominant input first', () => {
    const t = tornado(parseScenario({ ...single, streams: [{ ...single.streams[0], peakToAverage: { low: 1, high: 10 } }] }));
    expect(t[0].input).toBe('streams.chat.peakToAverage');
    // 40 card-equivalents per unit of peak-to-average: 40 at 1, 400 at 10
    expect(t[0].cardsAtLow).toBeCloseTo(40, 9);
    expect(t[0].cardsAtHigh).toBeCloseTo(400, 9);
    expect(t[0].synthetic).toBe(false);
    expect(t.slice(1).every((b) => b.swing <= t[0].swing)).toBe(true);
  });
});

describe('scenario files are validated on read', () => {
  it.each([
    [
      { ...single, streams: [{ name: 'x', inputTokensPerDay: 1, peakToAverage: 1 }] },
      /give either inputTokensPerDay and outputTokensPerDay, or unitsPerDay/,
    ],
    [{ ...single, card: { ...single.card, utilization: 1.5 } }, /card.utilization: utilization is a fraction: at most 1/],
    [{ ...single, card: { ...single.card, decodeTokensPerSecPerCard: { low: 5, high: 1 } } }, /low must not exceed high/],
    [{ ...single, card: { ...single.card, decodeTokensPerSecPerCard: -1 } }, /card.decodeTokensPerSecPerCard/],
    [{ ...single, extra: 1 }, /Unrecognized key/],
    [{ ...single, streams: [{ ...single.streams[0], stray: 1 }] }, /streams\.0: Unrecognized key.*stray/],
    [{ ...single, card: { ...single.card, cardsPerServer: 0.3 } }, /card.cardsPerServer: a server holds a whole number of cards/],
    [{ ...single, card: { ...single.card, cardsPerServer: { low: 4, high: 8.5 } } }, /card.cardsPerServer: a server holds a whole number of cards/],
    [{ ...single, streams: [single.streams[0], { ...single.streams[0] }] }, /two streams are named "chat": names must be unique/],
    [
      {
        ...single,
        streams: [{ name: 'huge', unitsPerDay: 1e308, queriesPerUnit: 10, inputTokensPerQuery: 100, outputTokensPerQuery: 10, peakToAverage: 2 }],
      },
      /stream huge: its figures multiply past any representable number of tokens/,
    ],
  ])('%#', (data, message) => {
    expect(() => parseScenario(data, 'bad.json')).toThrow(message);
  });
});

describe('per-card throughput composed from a measured result file', () => {
  const file = readResultFile(FIXTURE_H100);
  const c = compose(file, FIXTURE_H100, { model: 'tiny', layout: parseLayout('ep=4,tp=1'), contextTokens: 4096, linkGBps: 50 });

  it('decode: MoE slice and dense measured, attention and all-to-all estimated, summed per step', () => {
    const d = c.decode;
    // the EP=4 slice of 64 global tokens: 16 tokens per card per step
    expect(d.tokensPerStepPerCard).toBe(16);
    const term = (n: string) => d.terms.find((t) => t.name === n)!;
    expect(term('moe')).toMatchObject({ layers: 2, perLayerMs: 0.5, totalMs: 1, kind: 'measured' });
    expect(term('moe').source).toBe(`${FIXTURE_H100} tiny/moe/decode/t64/fp32/e8k2/routed/uniform/ep2 on NVIDIA H100 SXM5 80GB (fake, fp32)`);
    expect(term('dense')).toMatchObject({ layers: 1, perLayerMs: 0.25, kind: 'measured' });
    // attention per layer: 16 × (2 × 4096 + 128 × 4096) FLOPs at 67 TFLOP/s vs 4096 × 4 + 16 × 4096 × 256 bytes at 3.35 TB/s
    const attnMs = Math.max((16 * (2 * 4096 + 128 * 4096)) / 67e12, (4096 * 4 + 16 * 4096 * 256) / 3.35e12) * 1000;
    expect(term('attention').perLayerMs).toBeCloseTo(attnMs, 15);
    expect(term('attention').layers).toBe(3);
    // all-to-all: 16 tokens × k=2 × 32 × 4 bytes × 2 ways × 3/4 leave the card, at 50 GB/s
    const a2aMs = ((16 * 2 * 32 * 4 * 2 * 0.75) / 50e9) * 1000;
    expect(term('all-to-all').perLayerMs).toBeCloseTo(a2aMs, 15);
    // the slice leaves out each card's router (8 experts) and shared expert (16 wide) for its 16 tokens:
    // 2 × 16 × 32 × 8 + 6 × 16 × 32 × 16 = 57,344 FLOPs, (32 × 8 + 3 × 32 × 16) × 4 + 2 × 16 × 32 × 4 = 11,264 bytes,
    // memory-bound like the MoE case (19,680 bytes in 0.5 ms), so at its fraction: 0.5 ms × 11,264 / 19,680
    const rs = term('router+shared');
    expect(rs).toMatchObject({ layers: 2, kind: 'extrapolated' });
    expect(rs.perLayerMs).toBeCloseTo((0.5 * 11264) / 19680, 12);
    expect(rs.source).toMatch(
      /^router over 8 experts and 1 shared expert\(s\) for 16 tokens on NVIDIA H100 SXM5 80GB: their roofline floor .* the roofline fraction of .*tiny\/moe\/decode\/t64.*ep2 on NVIDIA H100/,
    );
    const stepMs = 2 * 0.5 + 2 * rs.perLayerMs + 0.25 + 3 * attnMs + 2 * a2aMs;
    expect(d.stepMs).toBeCloseTo(stepMs, 12);
    expect(d.tokensPerSecPerCard).toBeCloseTo(16 / (stepMs / 1000), 6);
  });

  it('prefill: a dense case beyond the measured token counts is scaled by its roofline floors, not linearly, and says so', () => {
    const dense = c.prefill!.terms.find((t) => t.name === 'dense')!;
    expect(c.prefill!.tokensPerStepPerCard).toBe(64);
    // dense prefill of 32 tokens (0.5 ms) is memory-bound on the H100: (3 × 32 × 48 + 2 × 32 × 32) × 4 = 26,624 bytes;
    // at 64 tokens (3 × 32 × 48 + 2 × 64 × 32) × 4 = 34,816 bytes; 0.5 ms × 34,816 / 26,624 (linear would have said 1 ms)
    expect(dense.kind).toBe('extrapolated');
    expect(dense.perLayerMs).toBeCloseTo((0.5 * 34816) / 26624, 12);
    expect(dense.source).toMatch(/beyond the measured token counts: time × 1\.308, its roofline floor at 64 tokens over that at 32$/);
  });

  it('a dense case between two measured token counts is interpolated on the line through them, and says so', () => {
    const d16 = file.cases.find((k) => k.id === 'tiny/dense/decode/t16/fp32')!;
    const at = (tokens: number, medianMs: number) =>
      ({
        ...d16,
        id: `tiny/dense/decode/t${tokens}/fp32`,
        workload: { ...d16.workload, numTokens: tokens, batch: tokens },
        summary: { ...d16.summary!, medianMs },
      }) as CaseResult;
    const peak = findCardPeak('NVIDIA H100 80GB HBM3')!;
    // 0.25 ms at 16 tokens, 0.35 at 48: at 32, halfway
    const t = denseAt(32, [at(16, 0.25), at(48, 0.35)], 'f.json', peak);
    expect(t.kind).toBe('interpolated');
    expect(t.perLayerMs).toBeCloseTo(0.3, 12);
    expect(t.source).toMatch(
      /^32 tokens between f\.json tiny\/dense\/decode\/t16\/fp32 on NVIDIA H100 SXM5 80GB .* and tiny\/dense\/decode\/t48\/fp32$/,
    );
    expect(denseAt(48, [at(16, 0.25), at(48, 0.35)], 'f.json', peak)).toMatchObject({ kind: 'measured', perLayerMs: 0.35 });
  });

  describe('measured attention cases of the sized card replace the estimate', () => {
    const template = file.cases.find((k) => k.id === 'tiny/dense/decode/t16/fp32')!;
    const attention = (phase: 'prefill' | 'decode', numTokens: number, medianMs: number, context?: number) => {
      const workload = {
        preset: 'tiny',
        layer: PRESETS.tiny.attention!,
        phase,
        batch: phase === 'decode' ? numTokens : 1,
        seqLen: phase === 'decode' ? 1 : numTokens,
        numTokens,
        dtype: 'fp32' as const,
        seed: 42,
        ...(context !== undefined ? { context } : {}),
      };
      const id = caseId(workload);
      return { ...template, id, workload, summary: { ...template.summary!, medianMs } } as CaseResult;
    };
    // decode at 16 queries over 1,024 (0.1 ms) and 8,192 (0.45 ms) tokens of cache; prefill of one 256-token prompt in 0.8 ms
    const withAttention = {
      ...file,
      cases: [...file.cases, attention('decode', 16, 0.1, 1024), attention('decode', 16, 0.45, 8192), attention('prefill', 256, 0.8)],
    };
    const m = compose(withAttention, FIXTURE_H100, { model: 'tiny', layout: parseLayout('ep=4,tp=1'), contextTokens: 4096, linkGBps: 50 });
    const term = (phase: PhaseComposition, n: string) => phase.terms.find((t) => t.name === n)!;

    it('decode at 4,096 tokens of context lies on the line through 1,024 and 8,192; the step is the hand-computed sum', () => {
      const attnMs = 0.1 + (0.35 * (4096 - 1024)) / (8192 - 1024);
      expect(term(m.decode, 'attention')).toMatchObject({ layers: 3, kind: 'interpolated' });
      expect(term(m.decode, 'attention').perLayerMs).toBeCloseTo(attnMs, 12);
      expect(term(m.decode, 'attention').source).toMatch(
        /^4096 tokens of context between .*tiny\/attention\/decode\/t16\/fp32\/ctx1024 on NVIDIA H100 SXM5 80GB .* and tiny\/attention\/decode\/t16\/fp32\/ctx8192$/,
      );
      // the other terms as in the estimate's composition: only attention changed
      const others = c.decode.terms.filter((t) => t.name !== 'attention').reduce((a, t) => a + t.totalMs, 0);
      expect(m.decode.stepMs).toBeCloseTo(others + 3 * attnMs, 12);
      expect(m.decode.tokensPerSecPerCard).toBeCloseTo(16 / ((others + 3 * attnMs) / 1000), 6);
    });

    it('prefill: the 256-token prompt’s time per token for the card’s 64 tokens', () => {
      expect(term(m.prefill!, 'attention')).toMatchObject({ kind: 'measured' });
      expect(term(m.prefill!, 'attention').perLayerMs).toBeCloseTo(0.8 * (64 / 256), 12);
      expect(term(m.prefill!, 'attention').source).toMatch(
        /tiny\/attention\/prefill\/t256\/fp32\/b1 on NVIDIA H100 SXM5 80GB \(fake, fp32\) × 64\/256 tokens/,
      );
    });

    it('one formulation, never mixed: the fused op where it was measured, over the standard one', () => {
      const fused = {
        ...attention('decode', 16, 0.3, 4096),
        workload: { ...attention('decode', 16, 0.3, 4096).workload, attnImpl: 'fused' as const },
      };
      fused.id = caseId(fused.workload);
      const both = compose({ ...withAttention, cases: [...withAttention.cases, fused] }, FIXTURE_H100, {
        model: 'tiny',
        layout: parseLayout('ep=4,tp=1'),
        contextTokens: 4096,
        linkGBps: 50,
      });
      expect(term(both.decode, 'attention')).toMatchObject({ kind: 'measured', perLayerMs: 0.3 });
      expect(term(both.decode, 'attention').source).toMatch(/tiny\/attention\/decode\/t16\/fp32\/ctx4096\/fused on NVIDIA H100/);
    });

    it('beyond the measured contexts the nearest is scaled by its roofline floors; without a case of the batch, the estimate names the run', () => {
      const far = compose(withAttention, FIXTURE_H100, { model: 'tiny', layout: parseLayout('ep=4,tp=1'), contextTokens: 16384, linkGBps: 50 });
      expect(term(far.decode, 'attention').kind).toBe('extrapolated');
      // tiny's attention at 16 queries is memory-bound on the H100: its cache of 16 × L × 2 heads × 16 × 2 × 4 bytes grows with L,
      // beside (32·64 + 32·32 + 32·32 + 64·32) × 4 bytes of projections and 2 × 16 × 32 × 4 of activations
      const bytes = (L: number) => 6144 * 4 + 16 * L * 2 * 16 * 2 * 4 + 2 * 16 * 32 * 4;
      expect(term(far.decode, 'attention').perLayerMs).toBeCloseTo((0.45 * bytes(16384)) / bytes(8192), 12);
      expect(term(c.decode, 'attention').source).toMatch(
        /\(no decode attention case of 16 queries measured on the NVIDIA H100 SXM5 80GB: run moebench run --preset tiny --layer attention --phase decode --dtype fp32 --tokens 16 --context 4096\)$/,
      );
    });
  });

  it('prefill attention attends over half the prompt (the prefill case’s 256 tokens), not half the card’s share', () => {
    const attn = c.prefill!.terms.find((t) => t.name === 'attention')!;
    // 64 tokens × (2 × 4096 + 128 × 128) FLOPs vs 4096 × 4 + 64 × 256 bytes: memory-bound at 3.35 TB/s
    const ms = Math.max((64 * (2 * 4096 + 128 * 128)) / 67e12, (4096 * 4 + 64 * 256) / 3.35e12) * 1000;
    expect(attn.perLayerMs).toBeCloseTo(ms, 15);
    // the FLOPs say which context was used: 64 × (2 × 4096 + 128 × 128) = 1.57 MFLOP (half the card's share would give 0.786)
    expect(attn.source).toMatch(/0\.00157 GFLOP, .* at 64-token chunks of 256-token prompts \(128 tokens of context on average\)/);
  });

  it('sizing for another card extrapolates by the roofline, and says so', () => {
    const h20 = compose(file, FIXTURE_H100, {
      model: 'tiny',
      layout: parseLayout('ep=4'),
      contextTokens: 4096,
      linkGBps: 50,
      card: 'NVIDIA H20 96GB',
    });
    const moe = h20.decode.terms.find((t) => t.name === 'moe')!;
    expect(moe.kind).toBe('extrapolated');
    expect(moe.source).toMatch(/roofline floor \/ [\d.]+%, the roofline fraction of .*tiny\/moe\/decode\/t64.* on NVIDIA H100 SXM5 80GB/);
  });

  it('size --from sizing-h100.json --card H20: the dense term is scaled from the H100 by both rooflines, never labelled as measured on the H20', () => {
    const h20 = compose(file, FIXTURE_H100, {
      model: 'tiny',
      layout: parseLayout('ep=4'),
      contextTokens: 4096,
      linkGBps: 50,
      card: 'NVIDIA H20 96GB',
    });
    const dense = h20.decode.terms.find((t) => t.name === 'dense')!;
    expect(dense.kind).toBe('extrapolated');
    expect(dense.source).toMatch(
      /^tiny\/dense\/decode\/t16\/fp32 .*at 16 tokens on NVIDIA H20 96GB: its roofline floor \/ [\d.]+%, the roofline fraction of .* on NVIDIA H100 SXM5 80GB/,
    );
    expect(dense.source).not.toMatch(/on NVIDIA H20 96GB \(fake/);
    // the dense decode case is memory-bound on both cards: (3 × 32 × 48 + 2 × 16 × 32) × 4 bytes; the H100's
    // fraction (its floor at 3.35 TB/s over the measured 0.25 ms) applied to the H20's floor at 4.0 TB/s
    const bytes = (3 * 32 * 48 + 2 * 16 * 32) * 4;
    const fraction = ((bytes / 3.35e12) * 1000) / 0.25;
    expect(dense.perLayerMs).toBeCloseTo(((bytes / 4.0e12) * 1000) / fraction, 12);
  });

  it('the all-to-all bandwidth, unless given, is the published measurement for the layout, named', () => {
    const a2a = (ep: number) =>
      compose(file, FIXTURE_H100, { model: 'tiny', layout: parseLayout(`ep=${ep}`), contextTokens: 4096 }).decode.terms.find(
        (t) => t.name === 'all-to-all',
      )!;
    // ep=4: within a node, DeepEP's EP8 NVLink figure, the lower of 153 (dispatch) and 158 (combine) GB/s
    const four = a2a(4);
    expect(four.source).toMatch(
      /\/ 153 GB\/s \(DeepEP's normal kernels on H800 .*intranode EP8 over NVLink: 153 GB\/s dispatch, 158 combine, for EP4\)$/,
    );
    // 16 tokens per card × k=2 × 32 × 4 bytes × 2 ways × 3/4 leave the card
    expect(four.perLayerMs).toBeCloseTo(((16 * 2 * 32 * 4 * 2 * 0.75) / 153e9) * 1000, 15);
    expect(linkFor(parseLayout('ep=16')).gbytesPerSec).toBe(43);
    expect(linkFor(parseLayout('ep=32')).gbytesPerSec).toBe(57);
    expect(linkFor(parseLayout('ep=64')).gbytesPerSec).toBe(50);
    expect(linkFor(parseLayout('ep=24')).gbytesPerSec).toBe(57);
    expect(linkFor(parseLayout('ep=32'), 25)).toEqual({ gbytesPerSec: 25, source: 'given with --link-gbytes-per-s' });
  });

  it('size --link-gbps is refused as ambiguous, naming --link-gbytes-per-s', () => {
    const r = moebench(['size', '--scenario', 'seed', '--link-gbps', '50']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /--link-gbps is ambiguous \(gigabits or gigabytes per second\?\): give --link-gbytes-per-s, in gigabytes per second$/,
    );
  });

  it('the MoE term is the served formulation: a dense-all case, even with more tokens, is not taken over the routed one', () => {
    const routed = file.cases.find((k) => k.id.startsWith('tiny/moe/decode/'))!;
    const denseAll = {
      ...routed,
      id: routed.id.replace('routed', 'dense-all').replace('t64', 't128'),
      workload: { ...routed.workload, moeImpl: 'dense-all' as const, numTokens: 128, batch: 128 },
      summary: { ...routed.summary!, medianMs: 0.1 },
    } as CaseResult;
    const both = compose({ ...file, cases: [denseAll, ...file.cases] }, FIXTURE_H100, {
      model: 'tiny',
      layout: parseLayout('ep=4'),
      contextTokens: 4096,
    });
    expect(both.decode.terms.find((t) => t.name === 'moe')!.source).toContain(routed.id);
  });

  it('a CPU engine case carrying a --card roofline label is not that card’s measurement', () => {
    const cpuCase = { ...file.cases[0], backend: 'ort-cpu', device: 'cpu (AMD EPYC, 2 cores, 24 GiB)' };
    expect(measuredCard(file, file.cases[0])?.name).toBe('NVIDIA H100 SXM5 80GB');
    expect(measuredCard(file, cpuCase)).toBeUndefined();
  });
});

describe('deepseek-v3 on an H800 at ep=32, composed from measured fp16 cases: hand-computed to the unit', () => {
  const template = readResultFile(FIXTURE_H100);
  const moeTemplate = template.cases.find((k) => k.id.startsWith('tiny/moe/decode/'))!;
  // deepseek-v3's preset shapes: hidden 7168, 256 experts top-8 of width 2048, 1 shared; dense FFN 18432
  const MOE = PRESETS['deepseek-v3'].moe!;
  const DENSE = PRESETS['deepseek-v3'].dense!;
  // a stand-in's H800 file: what a run on one would record, with the work each case's accounting gives
  const measured = (id: string, workload: object, work: { tokensPerCall: number; flopsPerCall: number; bytesPerCall: number }, medianMs: number) =>
    ({
      ...moeTemplate,
      id,
      device: 'H800 stand-in',
      workload: { preset: 'deepseek-v3', seed: 42, dtype: 'fp16', ...workload },
      work: { ...moeTemplate.work, ...work },
      summary: { ...moeTemplate.summary!, medianMs },
      roofline: { ...moeTemplate.roofline!, card: 'NVIDIA H800 SXM5 80GB' },
    }) as CaseResult;
  // decode: 512 tokens over 256 experts top-8, this card's 8 experts: 512 × 8 / 256 × 8 = 128 expert-tokens
  // (16 tokens per card), all 8 experts touched, 120 tokens received:
  // 128 × 6 × 7168 × 2048 FLOPs; 8 × 3 × 7168 × 2048 × 2 bytes of weights + (2 × 120 × 7168 + 120 × 8) × 2 of activations
  const moeDecode = measured(
    'deepseek-v3/moe/decode/t512/fp16/e256k8/routed/uniform/ep8',
    { layer: MOE, phase: 'decode', batch: 512, seqLen: 1, numTokens: 512, moeImpl: 'routed', routing: { kind: 'uniform' }, expertsPerCard: 8 },
    { tokensPerCall: 16, flopsPerCall: 128 * 6 * 7168 * 2048, bytesPerCall: 8 * 3 * 7168 * 2048 * 2 + (2 * 120 * 7168 + 120 * 8) * 2 },
    0.25,
  );
  const moePrefill = measured(
    'deepseek-v3/moe/prefill/t4096/fp16/e256k8/routed/uniform/ep8',
    { layer: MOE, phase: 'prefill', batch: 1, seqLen: 4096, numTokens: 4096, moeImpl: 'routed', routing: { kind: 'uniform' }, expertsPerCard: 8 },
    { tokensPerCall: 128, flopsPerCall: 1024 * 6 * 7168 * 2048, bytesPerCall: 8 * 3 * 7168 * 2048 * 2 + (2 * 900 * 7168 + 900 * 8) * 2 },
    0.9,
  );
  const denseDecode = (tokens: number, medianMs: number) =>
    measured(
      `deepseek-v3/dense/decode/t${tokens}/fp16`,
      { layer: DENSE, phase: 'decode', batch: tokens, seqLen: 1, numTokens: tokens },
      { tokensPerCall: tokens, flopsPerCall: tokens * 6 * 7168 * 18432, bytesPerCall: 3 * 7168 * 18432 * 2 + 2 * tokens * 7168 * 2 },
      medianMs,
    );
  const densePrefill = measured(
    'deepseek-v3/dense/prefill/t128/fp16',
    { layer: DENSE, phase: 'prefill', batch: 1, seqLen: 128, numTokens: 128 },
    { tokensPerCall: 128, flopsPerCall: 128 * 6 * 7168 * 18432, bytesPerCall: 3 * 7168 * 18432 * 2 + 2 * 128 * 7168 * 2 },
    0.8,
  );
  const decodeWith = (dense: CaseResult[]) =>
    compose({ ...template, cases: [moeDecode, moePrefill, densePrefill, ...dense] }, 'h800.json', {
      model: 'deepseek-v3',
      layout: parseLayout('ep=32'),
      contextTokens: 4096,
    }).decode;

  // the terms the dense layer does not change, at the H800's 989.4 TFLOP/s (fp16) and 3.35 TB/s, all memory-bound
  const moeMs = 0.25;
  // router (7168 × 256) and shared expert (3 × 7168 × 2048) weights in fp16, and 16 tokens in and out, at the MoE case's fraction
  const routerSharedMs =
    (0.25 * ((7168 * 256 + 3 * 7168 * 2048) * 2 + 2 * 16 * 7168 * 2)) / (8 * 3 * 7168 * 2048 * 2 + (2 * 120 * 7168 + 120 * 8) * 2);
  // MLA at 4096 tokens of context: 187,105,280 weights in fp16 + 16 × 4096 × 1152 bytes of cache
  const attentionMs = ((187_105_280 * 2 + 16 * 4096 * 1152) / 3.35e12) * 1000;
  // 16 tokens × k=8 × 7168 × 2 bytes × 2 ways × 31/32 leave the card, at DeepEP's 57 GB/s inter-node EP32 figure
  const allToAllMs = ((16 * 8 * 7168 * 2 * 2 * (31 / 32)) / 57e9) * 1000;

  it('each term as hand-computed', () => {
    const d = decodeWith([denseDecode(8, 0.3), denseDecode(32, 0.34)]);
    const term = (n: string) => d.terms.find((t) => t.name === n)!;
    expect(d.tokensPerStepPerCard).toBe(16);
    expect(term('moe')).toMatchObject({ layers: 58, perLayerMs: moeMs, kind: 'measured' });
    expect(term('router+shared')).toMatchObject({ layers: 58, kind: 'extrapolated' });
    expect(term('router+shared').perLayerMs).toBeCloseTo(routerSharedMs, 12);
    expect(term('attention')).toMatchObject({ layers: 61, kind: 'estimated' });
    expect(term('attention').perLayerMs).toBeCloseTo(attentionMs, 12);
    expect(term('all-to-all')).toMatchObject({ layers: 58, kind: 'estimated' });
    expect(term('all-to-all').perLayerMs).toBeCloseTo(allToAllMs, 12);
  });

  it('without a sweep: the dense layer at 16 tokens lies on the line through 8 (0.30 ms) and 32 (0.34 ms)', () => {
    const d = decodeWith([denseDecode(8, 0.3), denseDecode(32, 0.34)]);
    const dense = d.terms.find((t) => t.name === 'dense')!;
    const denseMs = 0.3 + (0.04 * 8) / 24;
    expect(dense).toMatchObject({ layers: 3, kind: 'interpolated' });
    expect(dense.perLayerMs).toBeCloseTo(denseMs, 12);
    const stepMs = 58 * moeMs + 58 * routerSharedMs + 3 * denseMs + 61 * attentionMs + 58 * allToAllMs;
    expect(d.stepMs).toBeCloseTo(stepMs, 12);
    expect(d.tokensPerSecPerCard).toBeCloseTo(16 / (stepMs / 1000), 6);
  });

  it('with a sweep of 8, 32 and 64 tokens: the dense layer at 16 tokens is on its least-squares line, not the neighbours’', () => {
    const d = decodeWith([denseDecode(8, 0.3), denseDecode(32, 0.34), denseDecode(64, 0.37)]);
    const dense = d.terms.find((t) => t.name === 'dense')!;
    // mean tokens 104/3, mean time 101/300 ms; Sxx = 4736/3, Sxy = 146/75: slope 73/59200 ms/token,
    // intercept 87/296 ms; at 16 tokens 2321/7400 ms (the two neighbours' line would say 0.31333)
    const denseMs = 2321 / 7400;
    expect(dense).toMatchObject({ layers: 3, kind: 'interpolated' });
    expect(dense.perLayerMs).toBeCloseTo(denseMs, 12);
    expect(dense.source).toBe(
      '16 tokens on the sweep fit 0.2939 ms + 0.001233 ms/token (R² 0.973) through 3 token counts of h800.json deepseek-v3/dense/decode/t*/fp16 on NVIDIA H800 SXM5 80GB (fake)',
    );
    const stepMs = 58 * moeMs + 58 * routerSharedMs + 3 * denseMs + 61 * attentionMs + 58 * allToAllMs;
    expect(d.stepMs).toBeCloseTo(stepMs, 12);
    expect(d.tokensPerSecPerCard).toBeCloseTo(16 / (stepMs / 1000), 6);
  });
});

describe('deepseek-v3 composed from measured fp8 cases (what torch-cuda measures on Hopper): one byte per weight and activation', () => {
  const template = readResultFile(FIXTURE_H100);
  const moeTemplate = template.cases.find((k) => k.id.startsWith('tiny/moe/decode/'))!;
  const MOE = PRESETS['deepseek-v3'].moe!;
  const measuredFp8 = (id: string, workload: object, work: { tokensPerCall: number; flopsPerCall: number; bytesPerCall: number }, medianMs: number) =>
    ({
      ...moeTemplate,
      id,
      backend: 'torch-cuda',
      device: 'gpu:0 (NVIDIA H800)',
      workload: { preset: 'deepseek-v3', seed: 42, dtype: 'fp8', ...workload },
      work: { ...moeTemplate.work, ...work },
      summary: { ...moeTemplate.summary!, medianMs },
      roofline: { ...moeTemplate.roofline!, card: 'NVIDIA H800 SXM5 80GB' },
    }) as CaseResult;
  // the fp16 block's cases with one byte per element: 8 × 3 × 7168 × 2048 weights + (2 × 120 × 7168 + 120 × 8) activations
  const moeBytes = 8 * 3 * 7168 * 2048 + (2 * 120 * 7168 + 120 * 8);
  const moeDecode = measuredFp8(
    'deepseek-v3/moe/decode/t512/fp8/e256k8/routed/uniform/ep8',
    { layer: MOE, phase: 'decode', batch: 512, seqLen: 1, numTokens: 512, moeImpl: 'routed', routing: { kind: 'uniform' }, expertsPerCard: 8 },
    { tokensPerCall: 16, flopsPerCall: 128 * 6 * 7168 * 2048, bytesPerCall: moeBytes },
    0.125,
  );
  const moePrefill = measuredFp8(
    'deepseek-v3/moe/prefill/t4096/fp8/e256k8/routed/uniform/ep8',
    { layer: MOE, phase: 'prefill', batch: 1, seqLen: 4096, numTokens: 4096, moeImpl: 'routed', routing: { kind: 'uniform' }, expertsPerCard: 8 },
    { tokensPerCall: 128, flopsPerCall: 1024 * 6 * 7168 * 2048, bytesPerCall: 8 * 3 * 7168 * 2048 + (2 * 900 * 7168 + 900 * 8) },
    0.45,
  );
  const DENSE = PRESETS['deepseek-v3'].dense!;
  const dense = (phase: 'prefill' | 'decode', tokens: number, medianMs: number) =>
    measuredFp8(
      `deepseek-v3/dense/${phase}/t${tokens}/fp8`,
      { layer: DENSE, phase, batch: phase === 'decode' ? tokens : 1, seqLen: phase === 'decode' ? 1 : tokens, numTokens: tokens },
      { tokensPerCall: tokens, flopsPerCall: tokens * 6 * 7168 * 18432, bytesPerCall: 3 * 7168 * 18432 + 2 * tokens * 7168 },
      medianMs,
    );

  it('the MoE term is measured; router+shared, attention and all-to-all scale with fp8 bytes', () => {
    const cases = [moeDecode, moePrefill, dense('prefill', 128, 0.4), dense('decode', 8, 0.15), dense('decode', 32, 0.17)];
    const composed = compose({ ...template, cases }, 'h800-fp8.json', {
      model: 'deepseek-v3',
      layout: parseLayout('ep=32'),
      contextTokens: 4096,
    });
    const d = composed.decode;
    const term = (n: string) => d.terms.find((t) => t.name === n)!;
    expect(d.dtype).toBe('fp8');
    expect(term('moe')).toMatchObject({ layers: 58, perLayerMs: 0.125, kind: 'measured' });
    // router (7168 × 256) and shared expert (3 × 7168 × 2048) at one byte, 16 tokens in and out, at the MoE case's time per byte
    expect(term('router+shared').perLayerMs).toBeCloseTo((0.125 * (7168 * 256 + 3 * 7168 * 2048 + 2 * 16 * 7168)) / moeBytes, 12);
    // MLA's 187,105,280 weights at one byte + 16 × 4096 × 1152 bytes of cache, at the H800's 3.35 TB/s
    expect(term('attention').perLayerMs).toBeCloseTo(((187_105_280 + 16 * 4096 * 1152) / 3.35e12) * 1000, 12);
    // 16 tokens × k=8 × 7168 × one byte × 2 ways × 31/32, at 57 GB/s
    expect(term('all-to-all').perLayerMs).toBeCloseTo(((16 * 8 * 7168 * 2 * (31 / 32)) / 57e9) * 1000, 12);
    // 16 tokens between 8 (0.15 ms) and 32 (0.17 ms)
    expect(term('dense')).toMatchObject({ layers: 3, kind: 'interpolated' });
    expect(term('dense').perLayerMs).toBeCloseTo(0.15 + (0.02 * 8) / 24, 12);
  });
});

describe('moebench size', () => {
  it('--json prints streams with cards, exact cards and servers, and a total', () => {
    const r = moebench(['size', '--scenario', 'seed', '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.streams.map((s: { name: string }) => s.name)).toEqual(['user', 'api']);
    expect(Object.keys(out.streams[1])).toEqual(expect.arrayContaining(['name', 'cards', 'cardsExact', 'servers']));
    expect(out.streams[1].servers).toEqual({ low: 3376, high: 5144 });
    expect(out.total.cards.low).toBe(out.streams[0].cards.low + out.streams[1].cards.low);
  });

  it('prints the table beside the published one, the cost beside API prices, and the tornado', () => {
    const r = moebench(['size', '--scenario', 'seed']);
    expect(r.stdout).toMatch(/api\s+13502\.6 – 20575\.1\s+13,503 – 20,576\s+3,376 – 5,144\s+14,000 – 21,000\s+3,376 – 5,144/);
    expect(r.stdout).toMatch(/API price \(published\)\s+1\.00 – 4\.00\s+16\.00/);
    expect(r.stdout).toMatch(/sensitivity/);
    // the scenario's description (273 characters) wrapped with the rest to a 120-column terminal
    expect(r.stdout).toMatch(/^scenario seed: Reproduces the sell-side forecast .*\n {2}\(conference-call summary/);
    expect(r.stdout.split('\n').filter((line) => line.length > 120)).toEqual([]);
  });

  it('--from several files gives one measured row per card beside the assumed figures', () => {
    const r = moebench(['size', '--scenario', 'seed', '--from', FIXTURE_H100, FIXTURE_H20, '--model', 'tiny', '--layout', 'ep=4']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^assumed\n {2}user\s+4,000\s+250\s+76,827 – 107,873\s/m);
    // the fixtures' figures (the composition below says how each is had), each card under its name
    expect(r.stdout).toMatch(/^measured: NVIDIA H100 SXM5 80GB\n {2}user\s+9,344\s+8,708\s.*\n {2}api\s+9,344\s+8,708\s/m);
    expect(r.stdout).toMatch(/^measured: NVIDIA H20 96GB\n {2}user\s+4,447\s+4,375\s/m);
    // a terminal's 120 columns: each term's source (up to 350 characters) is wrapped under its table
    expect(r.stdout.split('\n').filter((line) => line.length > 120)).toEqual([]);
    expect(r.stdout).toMatch(/^term\s+layers\s+ms per layer\s+ms per step\s+kind$/m);
    // unwrapped: where the source wraps depends on how long the checkout's path is
    expect(r.stdout.replace(/\n {4}/g, ' ')).toMatch(
      /^ {2}moe: .*sizing-h100\.json tiny\/moe\/prefill\/t256\/fp32\/e8k2\/routed\/uniform\/ep2 on NVIDIA H100/m,
    );
    // the answer first: the side-by-side table comes before the terms and the sensitivity
    const at = (text: string) => r.stdout.indexOf(text);
    expect(at('assumed vs measured per-card throughput')).toBeGreaterThan(0);
    expect(at('assumed vs measured per-card throughput')).toBeLessThan(at('per-card throughput of tiny'));
    expect(at('per-card throughput of tiny')).toBeLessThan(at('sensitivity'));
  });

  it.each([
    [['--model', 'gpt-9'], /unknown model "gpt-9"/],
    [
      ['--model', 'llama-3.1-8b', '--layout', 'ep=1'],
      /no prefill dense case of llama-3.1-8b: run moebench run --preset llama-3.1-8b --layer dense --phase prefill/,
    ],
    [['--model', 'tiny', '--layout', 'ep=3'], /--layout ep=3 must divide tiny's 8 experts/],
    [['--model', 'tiny', '--layout', 'ep=4,tp=2'], /tensor parallelism is not modelled yet/],
    [['--model', 'tiny', '--layout', 'ep=4', '--card', 'Voodoo 5'], /unknown card "Voodoo 5"/],
    [
      ['--model', 'deepseek-v3', '--layout', 'ep=1'],
      /layout ep=1 does not fit: deepseek-v3's weights need 624\.9 GiB per card \(1 byte\(s\) per weight\), the NVIDIA H100 SXM5 80GB has 80 GiB/,
    ],
  ])('%j gives a clear error and exit 2', (args, message) => {
    const r = moebench(['size', '--scenario', 'seed', '--from', FIXTURE_H100, ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('run --backend ort-cpu --card "NVIDIA H100 SXM5 80GB" is refused: CPU timings would pass for the H100', () => {
    const r = moebench([
      'run',
      '--backend',
      'ort-cpu',
      '--preset',
      'tiny',
      '--card',
      'NVIDIA H100 SXM5 80GB',
      '--out',
      join(mkdtempSync(join(tmpdir(), 'moebench-card-')), 'r.json'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /--card NVIDIA H100 SXM5 80GB names the GPU whose datasheet roofline a case is judged against; ort-cpu runs on the host CPU, which would then pass for that GPU: leave out --card$/,
    );
  });

  it('a hand-written scenario with only the documented fields (no description) sizes', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'moebench-scenario-')), 'mine.json');
    writeFileSync(path, JSON.stringify({ name: 'mine', streams: single.streams, card: single.card }));
    const r = moebench(['size', '--scenario', path, '--json']);
    expect(r.status, r.stderr).toBe(0);
    // 8.64e9 input and 8.64e8 output tokens a day at a peak of 2: 2e5 and 2e4 tokens/s, at 10,000 and 1,000 per card × 0.5
    expect(JSON.parse(r.stdout).total.cards.low).toBe(80);
  });

  it('a result file of another model, measured on a CPU, cannot be scaled and says what to do', () => {
    const cpuFile = join(import.meta.dirname, 'fixtures', 'fake-run.json');
    const r = moebench(['size', '--scenario', 'seed', '--from', cpuFile, '--model', 'tiny', '--layout', 'ep=4']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /measured on fake \(scripted latencies\), which has no datasheet peaks and no roofline probes in the files given; .*--card\): run moebench run --suite roofline --backend fake$/m,
    );
  });

  it('the run each refusal names really produces what size then accepts: following them one by one ends in a sizing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-size-named-'));
    const H100 = ['--card', 'NVIDIA H100 SXM5 80GB', '--repetitions', '1', '--min-time-ms', '5'];
    const fake = fakeScript({ latenciesMs: [2] });
    const first = join(dir, 'r0.json');
    expect(moebench([...TINY_FAKE_RUN, ...H100, '--out', first], fake).status).toBe(0);
    const files = [first];
    const named: string[] = [];
    for (let step = 1; step <= 6; step++) {
      const r = moebench(['size', '--scenario', 'seed', ...files.flatMap((f) => ['--from', f]), '--model', 'tiny', '--layout', 'ep=4']);
      if (r.status === 0) break;
      expect(r.status, r.stderr).toBe(2);
      const command = /: run moebench (run [^\n]*?)(?: on the [^\n]*)?$/m.exec(r.stderr)?.[1];
      expect(command, r.stderr).toBeDefined();
      // never the same case asked for twice: what the last command measured was taken
      expect(named).not.toContain(command);
      named.push(command!);
      const out = join(dir, `r${step}.json`);
      const run = moebench([...command!.split(' '), '--backend', 'fake', ...H100, '--out', out], fake);
      expect(run.status, run.stderr).toBe(0);
      files.push(out);
    }
    const sized = moebench(['size', '--scenario', 'seed', ...files.flatMap((f) => ['--from', f]), '--model', 'tiny', '--layout', 'ep=4']);
    expect(sized.status, sized.stderr).toBe(0);
    expect(named.length).toBeGreaterThan(0);
    // one measured row for the card, its terms naming each case's own file
    expect(sized.stdout).toMatch(/measured: NVIDIA H100 SXM5 80GB/);
    expect(sized.stdout).toContain(`${files[1]} tiny/moe/prefill/`);
  });

  it('a device with no datasheet row is sized for itself from its measured ceilings, following the runs size names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-size-ceilings-'));
    const quick = ['--repetitions', '1', '--min-time-ms', '5'];
    // the probes take 1 ms at 1 token and 8 ms at 64 tokens; every layer case 2 ms
    const fake = fakeScript({ latenciesMs: [2], latencyByCase: { 'matmul/prefill/t1/': 1, 'matmul/prefill/t64/': 8 } });
    const files: string[] = [];
    const named: string[] = [];
    const size = () => moebench(['size', '--scenario', 'seed', ...files.flatMap((f) => ['--from', f]), '--model', 'tiny', '--layout', 'ep=4']);
    const first = join(dir, 'r0.json');
    expect(moebench([...TINY_FAKE_RUN, ...quick, '--out', first], fake).status).toBe(0);
    files.push(first);
    let r = size();
    for (let step = 1; step <= 6 && r.status !== 0; step++, r = size()) {
      expect(r.status, r.stderr).toBe(2);
      const command = /: run moebench (run [^\n]*?)(?: on the [^\n]*)?$/m.exec(r.stderr)?.[1];
      expect(command, r.stderr).toBeDefined();
      expect(named).not.toContain(command);
      named.push(command!);
      const args = command!.split(' ');
      const out = join(dir, `r${step}.json`);
      // the roofline suite's own probe (4096², 512 MiB of weights) on tiny's shapes: the fake computes every output in JS
      const extra = command!.includes('--suite roofline') ? ['--preset', 'tiny', '--tokens', '1,64'] : ['--backend', 'fake'];
      const run = moebench([...args, ...extra, ...quick, '--out', out], fake);
      expect(run.status, run.stderr).toBe(0);
      files.push(out);
    }
    expect(r.status, r.stderr).toBe(0);
    expect(named[0]).toBe('run --suite roofline --backend fake');
    const card = 'fake (scripted latencies) · fake (measured ceilings)';
    expect(r.stdout).toContain(`measured: ${card}`);
    const json = moebench(['size', '--scenario', 'seed', ...files.flatMap((f) => ['--from', f]), '--model', 'tiny', '--layout', 'ep=4', '--json']);
    const composition = JSON.parse(json.stdout).measured[0].composition;
    expect(composition.card).toBe(card);
    // tiny's probe: 2 products of 32×32, 2·2·32·32 = 4,096 FLOPs a token; 64 tokens in 8 ms (32.8 MFLOP/s) beat 1 in 1 ms
    expect(composition.peak.tflops.fp32).toBeCloseTo((64 * 4096) / 8e-3 / 1e12, 15);
    // one token in 1 ms moves 2 weights of 32·32·4 bytes and 2 × (in + out) 32·4 bytes: 8,704 B, 8.704 MB/s; 64 tokens
    // move 8,192 + 2·2·64·32·4 = 40,960 B in 8 ms, 5.12 MB/s
    expect(composition.peak.memoryBandwidthTBps).toBeCloseTo(8704 / 1e-3 / 1e12, 15);
    expect(composition.peak.measured).toBe(true);
    // the attention term is the measured ceilings' roofline, not a datasheet's
    const attention = composition.decode.terms.find((t: { name: string }) => t.name === 'attention');
    expect(attention.source).toMatch(/^roofline of fake \(scripted latencies\) · fake \(measured ceilings\) \(fp32\)/);
  });

  it('measured ceilings are never used to scale to another card, and a CPU never to a GPU', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moebench-size-noscale-'));
    // real ONNX Runtime CPU runs of tiny's shapes: a CPU's device and its measured ceilings
    const quick = ['--backend', 'ort-cpu', '--preset', 'tiny', '--repetitions', '1', '--min-time-ms', '5', '--max-time-ms', '50'];
    const layers = join(dir, 'layers.json');
    const probes = join(dir, 'probes.json');
    let r = moebench(['run', ...quick, '--layer', 'moe,dense', '--tokens', '4', '--experts-per-card', '2', '--out', layers]);
    expect(r.status, r.stderr).toBe(0);
    r = moebench(['run', '--suite', 'roofline', ...quick, '--tokens', '1,64', '--out', probes]);
    expect(r.status, r.stderr).toBe(0);
    const size = (...more: string[]) =>
      moebench(['size', '--scenario', 'seed', '--from', layers, '--from', probes, '--model', 'tiny', '--layout', 'ep=4', ...more]);
    r = size('--card', 'NVIDIA H100 SXM5 80GB');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /was measured on the CPU \(cpu \(.*\) · ort-cpu \(measured ceilings\)\); a CPU measurement is never scaled to a GPU \(NVIDIA H100 SXM5 80GB\)/,
    );
    // for itself it sizes, labelled as measured ceilings
    r = size();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/measured: cpu \(.*\) · ort-cpu \(measured ceilings\)/);
  });

  it("--decode-only: the files' decode composed, the scenario's own prefill figure beside it", () => {
    const json = (...more: string[]) => {
      const r = moebench(['size', '--scenario', 'seed', '--from', FIXTURE_H100, '--model', 'tiny', '--layout', 'ep=4', '--json', ...more]);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const full = json();
    const decodeOnly = json('--decode-only');
    type Stream = { prefillCardsExact: { low: number; high: number }; decodeCardsExact: { low: number; high: number } };
    const [fullRun, decodeRun] = [full.measured[0], decodeOnly.measured[0]];
    expect(decodeRun.composition.prefill).toBeUndefined();
    expect(decodeRun.composition.decode).toEqual(fullRun.composition.decode);
    // prefill cards as the assumed figures give them, decode cards as the measured composition gives them
    expect(decodeRun.streams.map((s: Stream) => s.prefillCardsExact)).toEqual(full.streams.map((s: Stream) => s.prefillCardsExact));
    expect(decodeRun.streams.map((s: Stream) => s.decodeCardsExact)).toEqual(fullRun.streams.map((s: Stream) => s.decodeCardsExact));

    const text = moebench(['size', '--scenario', 'seed', '--from', FIXTURE_H100, '--model', 'tiny', '--layout', 'ep=4', '--decode-only']).stdout;
    // the scenario's assumed 4,000 tokens/s of prefill in the measured row, and its name saying so
    expect(text).toMatch(/^measured: NVIDIA H100 SXM5 80GB \(decode; prefill assumed\)\n {2}user\s+4,000\s+8,708\s/m);
    expect(text).toContain("\nprefill: not composed (--decode-only): the scenario's assumed per-card prefill figure stands\n");
  });

  it('a file with decode and no prefill MoE case: sized with --decode-only, and the refusal without it says so (the first H200 sitting)', () => {
    const h200 = join(import.meta.dirname, '..', '..', 'results', '2026-12-04T17-09Z-h200-deepseek-v3-torch-cuda.json');
    const args = ['size', '--scenario', 'seed', '--from', h200, '--model', 'deepseek-v3'];
    const refused = moebench(args);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(
      /no prefill MoE case of deepseek-v3 with --experts-per-card 8 .* \(or size from the files' decode alone with --decode-only\): run moebench run /,
    );
    const r = moebench([...args, '--decode-only']);
    expect(r.status, r.stderr).toBe(0);
    // the file's MoE decode case, 2.238 ms at 256 tokens over EP=32 (8 tokens a card), in each of the 58 MoE layers
    expect(r.stdout).toMatch(/^decode: 8 tokens per card per step, /m);
    expect(r.stdout).toMatch(/^moe\s+58\s+2\.238\s+129\.8\s+measured$/m);
    // report sizes it alike: not sized without the flag, the measured row labelled so with it
    const dir = mkdtempSync(join(tmpdir(), 'moebench-report-decode-'));
    const page = (...flags: string[]) => {
      const out = join(dir, `${flags.length}.html`);
      const rep = moebench(['report', h200, '--scenario', 'seed', '--model', 'deepseek-v3', '--out', out, ...flags]);
      expect(rep.status, rep.stderr).toBe(0);
      return readFileSync(out, 'utf8');
    };
    expect(page()).toMatch(/not sized: \S+h200-deepseek-v3-torch-cuda\.json: no prefill MoE case of deepseek-v3 .*--decode-only/);
    expect(page('--decode-only')).toContain(`measured: NVIDIA H200 SXM 141GB (decode; prefill assumed) (${h200})`);
  });

  it('missing MoE cases, with nothing to scale from, name the run that would measure them', () => {
    const cpuFile = join(import.meta.dirname, 'fixtures', 'fake-run.json');
    const r = moebench(['size', '--scenario', 'seed', '--from', cpuFile, '--model', 'tiny', '--layout', 'ep=4', '--card', 'NVIDIA H100 SXM5 80GB']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /no prefill MoE case of tiny with --experts-per-card 2 measured on the NVIDIA H100 SXM5 80GB, and none on a card with datasheet peaks to scale from \(or size from the files' decode alone with --decode-only\): run moebench run --preset tiny --layer moe --phase prefill --experts-per-card 2/,
    );
  });
});

describe('the roofline bound: the datasheet alone, an upper bound beside every figure', () => {
  it('deepseek-v3 on an H800 at ep=32, FP8: hand-computed per-token compute, memory and link times', () => {
    const b = rooflineBound('deepseek-v3', findCardPeak('NVIDIA H800')!, parseLayout('ep=32'), 'fp8', { contextTokens: 4096 });
    // decode: 2 × 37e9 + 61 layers × 2 × 128 × 1088 FLOPs × 4096 context = 143.59 GFLOP at 1978.9 TFLOP/s
    const flops = 2 * 37e9 + 61 * 2 * 128 * 1088 * 4096;
    expect(b.decode.perTokenMs.compute).toBeCloseTo((flops / 1978.9e12) * 1000, 12);
    // 61 layers × 1152 bytes of KV per token × 4096 context at 3.35 TB/s
    expect(b.decode.perTokenMs.memory).toBeCloseTo(((61 * 1152 * 4096) / 3.35e12) * 1000, 12);
    // 58 MoE layers × k=8 × 7168 × 1 byte × 2 ways × 31/32 at DeepEP's EP32 57 GB/s
    const linkMs = ((58 * 8 * 7168 * 2 * (31 / 32)) / 57e9) * 1000;
    expect(b.decode.perTokenMs.link).toBeCloseTo(linkMs, 12);
    expect(b.decode.limitedBy).toBe('link');
    expect(b.decode.tokensPerSecPerCard).toBeCloseTo(1000 / linkMs, 6);
    // prefill: half the 4096-token prompt of context on average
    expect(b.prefill.perTokenMs.compute).toBeCloseTo(((2 * 37e9 + 61 * 2 * 128 * 1088 * 2048) / 1978.9e12) * 1000, 12);
    // within a node nothing leaves for RDMA: ep=8 at NVLink's 153 GB/s, and compute or memory may bind instead
    const eight = rooflineBound('deepseek-v3', findCardPeak('NVIDIA H800')!, parseLayout('ep=8'), 'fp8', { contextTokens: 4096 });
    expect(eight.decode.perTokenMs.link).toBeCloseTo(((58 * 8 * 7168 * 2 * (7 / 8)) / 153e9) * 1000, 12);
    expect(eight.decode.limitedBy).toBe('memory');
  });

  it('size --model deepseek-v3 --card H800 --layout ep=32 --roofline prints the bounds alone, labelled an upper bound', () => {
    const r = moebench(['size', '--model', 'deepseek-v3', '--card', 'NVIDIA H800', '--layout', 'ep=32', '--roofline']);
    expect(r.status, r.stderr).toBe(0);
    // the title wrapped to 120 columns
    expect(r.stdout.replace(/\n {2}/g, ' ')).toMatch(
      /^roofline bound of deepseek-v3 on NVIDIA H800 SXM5 80GB, layout ep=32: the datasheet alone, no measurement; no system exceeds it/,
    );
    expect(r.stdout).toMatch(/decode\s+fp8\s+8,845\s+link/);
  });

  it('with a scenario, the bound sits beside the assumed figures with the cards it would need', () => {
    const r = moebench(['size', '--scenario', 'seed', '--model', 'deepseek-v3', '--card', 'NVIDIA H800', '--layout', 'ep=32', '--roofline']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/assumed vs roofline-bound per-card throughput/);
    expect(r.stdout).toMatch(/^roofline bound \(fp8\): NVIDIA H800 SXM5 80GB\n {2}user\s+8,845\s+8,845/m);
  });

  it('--roofline --from without a scenario bounds the measured card at FP8 and at the measured math mode', () => {
    const r = moebench(['size', '--model', 'tiny', '--layout', 'ep=4', '--from', FIXTURE_H100, '--roofline']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^roofline bound of tiny on NVIDIA H100 SXM5 80GB, layout ep=4/);
    expect(r.stdout).toMatch(/decode\s+fp8\s/);
    expect(r.stdout).toMatch(/decode\s+fp32\s/);
  });

  it('--roofline with no card to bound, and size with neither scenario nor --roofline, say what to give', () => {
    expect(moebench(['size', '--model', 'deepseek-v3', '--roofline']).stderr).toMatch(/--roofline needs a card: name it with --card/);
    expect(moebench(['size', '--model', 'deepseek-v3']).stderr).toMatch(
      /name a --scenario \(e\.g\. seed\), or ask for the roofline bounds alone with --roofline --card NAME/,
    );
  });
});

describe('the tornado keeps inputs in range', () => {
  it('utilization moved +25% from 0.9 stops at 1', () => {
    const bars = tornado(parseScenario({ ...single, card: { ...single.card, utilization: 0.9 } }));
    const u = bars.find((b) => b.input === 'card.utilization')!;
    expect(u.lowValue).toBeCloseTo(0.675, 12);
    expect(u.highValue).toBe(1);
    expect(u.cardsAtHigh).toBeCloseTo(40, 9);
  });
});
