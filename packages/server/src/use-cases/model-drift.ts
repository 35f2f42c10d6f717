import type { DecisionOutcome } from '@warden/engine';
import { type StabilityBaseline, stabilityAgainst } from '@warden/ml';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { findModel } from '../repositories/models.js';

/** Recent decisions kept per feature to compare with the training data. */
const SAMPLE = 5000;
/** One decision in this many is sampled: enough for a stable index, cheap on the decision path. */
const EVERY = 4;
/** Fewer sampled decisions than this give an index too noisy to show. */
const MIN_SAMPLE = 500;

interface DriftState {
  version: string;
  names: string[];
  baselines: StabilityBaseline[];
  columns: Float64Array[];
  filled: number;
  at: number;
}

/**
 * Drift of the active model's inputs: per numeric feature, the population stability index
 * between the training data (the baseline stored with the model) and a sample of recent
 * decisions. Above 0.25 a feature has moved enough that the model's view of it is out of date.
 */
export class ModelDrift {
  private state: DriftState | null = null;
  private seen = 0;

  constructor(private readonly db: Kysely<Database>) {}

  /** Follows the active model (null: none); models without a baseline (imported) show no drift. */
  async use(version: string | null): Promise<void> {
    if (version === null) {
      this.state = null;
      return;
    }
    const row = await findModel(this.db, Number(version));
    const baseline = (row?.baseline ?? null) as Record<string, StabilityBaseline> | null;
    if (!baseline) {
      this.state = null;
      return;
    }
    const names = Object.keys(baseline).sort();
    this.state = {
      version,
      names,
      baselines: names.map((n) => baseline[n] as StabilityBaseline),
      columns: names.map(() => new Float64Array(SAMPLE)),
      filled: 0,
      at: 0,
    };
  }

  observe(outcome: DecisionOutcome): void {
    const s = this.state;
    if (!s || outcome.modelVersion !== s.version) return;
    if (++this.seen % EVERY !== 0) return;
    const f = outcome.features;
    for (let i = 0; i < s.names.length; i++) {
      const v = f[s.names[i] as string];
      (s.columns[i] as Float64Array)[s.at] =
        typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : Number.NaN;
    }
    s.at = (s.at + 1) % SAMPLE;
    if (s.filled < SAMPLE) s.filled++;
  }

  /** Per feature, the index now; empty until enough decisions were sampled. */
  stability(): { version: string; feature: string; psi: number }[] {
    const s = this.state;
    if (!s || s.filled < MIN_SAMPLE) return [];
    return s.names.map((feature, i) => ({
      version: s.version,
      feature,
      psi: stabilityAgainst(
        s.baselines[i] as StabilityBaseline,
        (s.columns[i] as Float64Array).subarray(0, s.filled),
      ),
    }));
  }
}
