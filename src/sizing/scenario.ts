import { z } from 'zod';
import { loadBenchFile, validateInput } from '../files/benchFiles.js';
import type { Range } from './range.js';

/** Where an assumption comes from; every figure in a scenario should say. */
export const BasisSchema = z.enum(['published', 'derived', 'assumed', 'measured']);
export type Basis = z.infer<typeof BasisSchema>;

const positive = z.number().refine((x) => Number.isFinite(x) && x > 0, 'must be a positive number');

/** A number, {"low", "high"}, or either with a note: {"value"|"low","high", "basis", "note"}. */
export const FigureSchema = z.union([
  positive,
  z
    .object({ low: positive, high: positive, basis: BasisSchema.optional(), note: z.string().optional() })
    .strict()
    .refine((r) => r.low <= r.high, 'low must not exceed high'),
  z.object({ value: positive, basis: BasisSchema.optional(), note: z.string().optional() }).strict(),
]);
export type Figure = z.infer<typeof FigureSchema>;

export interface Assumption extends Range {
  basis?: Basis;
  note?: string;
}

export function assumption(f: Figure): Assumption {
  if (typeof f === 'number') return { low: f, high: f };
  if ('value' in f) return { low: f.value, high: f.value, basis: f.basis, note: f.note };
  return { low: f.low, high: f.high, basis: f.basis, note: f.note };
}

export const StreamSchema = z
  .object({
    name: z.string().min(1),
    note: z.string().optional(),
    /** Either tokens per day directly ... */
    inputTokensPerDay: FigureSchema.optional(),
    outputTokensPerDay: FigureSchema.optional(),
    /** ... or units (users, visits, calls) per day × queries per unit × tokens per query. */
    unitsPerDay: FigureSchema.optional(),
    queriesPerUnit: FigureSchema.optional(),
    inputTokensPerQuery: FigureSchema.optional(),
    outputTokensPerQuery: FigureSchema.optional(),
    /** Peak-hour demand over the daily average. */
    peakToAverage: FigureSchema,
  })
  .strict()
  .superRefine((s, ctx) => {
    const direct = s.inputTokensPerDay !== undefined && s.outputTokensPerDay !== undefined;
    const perUnit = [s.unitsPerDay, s.queriesPerUnit, s.inputTokensPerQuery, s.outputTokensPerQuery].every((x) => x !== undefined);
    if (direct === perUnit) {
      ctx.addIssue({
        code: 'custom',
        message: `stream ${s.name}: give either inputTokensPerDay and outputTokensPerDay, or unitsPerDay, queriesPerUnit, inputTokensPerQuery and outputTokensPerQuery`,
      });
    }
  });

export const CardSchema = z
  .object({
    name: z.string().optional(),
    prefillTokensPerSecPerCard: FigureSchema,
    decodeTokensPerSecPerCard: FigureSchema,
    /** Fraction of a card's measured throughput used on average, in (0, 1]. */
    utilization: FigureSchema,
    cardsPerServer: FigureSchema,
    memoryGiB: FigureSchema.optional(),
  })
  .strict();

export const ScenarioSchema = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    source: z.string().optional(),
    streams: z.array(StreamSchema).min(1),
    card: CardSchema,
    cost: z
      .object({
        currency: z.string(),
        cardHourPrice: FigureSchema,
        apiPrices: z.object({ inputPerMillion: FigureSchema, outputPerMillion: FigureSchema, note: z.string().optional() }).strict().optional(),
      })
      .strict()
      .optional(),
    /** The table the scenario reproduces, shown beside the model's figures. */
    published: z
      .array(
        z
          .object({
            name: z.string(),
            cards: z.object({ low: positive, high: positive }),
            servers: z.object({ low: positive, high: positive }),
          })
          .strict(),
      )
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const u = assumption(s.card.utilization);
    if (u.high > 1) ctx.addIssue({ code: 'custom', path: ['card', 'utilization'], message: 'utilization is a fraction: at most 1' });
    const perServer = assumption(s.card.cardsPerServer);
    if (!Number.isInteger(perServer.low) || !Number.isInteger(perServer.high))
      ctx.addIssue({ code: 'custom', path: ['card', 'cardsPerServer'], message: 'a server holds a whole number of cards' });
    // two streams of one name are summed as two in the total and shown as one in the table
    const names = s.streams.map((x) => x.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) ctx.addIssue({ code: 'custom', path: ['streams'], message: `two streams are named "${twice}": names must be unique` });
    // each figure may be finite while their product overflows (unitsPerDay 1e308 × tokens): the totals would print ∞
    s.streams.forEach((x, i) => {
      const perDay = [
        x.unitsPerDay,
        x.queriesPerUnit,
        x.inputTokensPerQuery,
        x.outputTokensPerQuery,
        x.inputTokensPerDay,
        x.outputTokensPerDay,
        x.peakToAverage,
      ]
        .filter((f): f is Figure => f !== undefined)
        .reduce<number>((a, f) => a * assumption(f).high, 1);
      if (!Number.isFinite(perDay * 1e6))
        ctx.addIssue({
          code: 'custom',
          path: ['streams', i],
          message: `stream ${x.name}: its figures multiply past any representable number of tokens`,
        });
    });
  });

export type Scenario = z.infer<typeof ScenarioSchema>;
export type Stream = z.infer<typeof StreamSchema>;

/** A scenario by name (bench/scenarios/NAME.json) or path, validated. */
export function loadScenario(nameOrPath: string): Scenario {
  return loadBenchFile('scenarios', 'scenario', nameOrPath, ScenarioSchema);
}

export function parseScenario(data: unknown, path = '<scenario>'): Scenario {
  return validateInput(ScenarioSchema, data, `scenario ${path}`);
}
