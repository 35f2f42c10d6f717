import type { Reason } from '@warden/contracts';
import type { FeatureSnapshot } from '../catalogue.js';
import {
  type CompiledModel,
  modelInput,
  predictMargin,
  probabilityOf,
  scoreOf,
  sigmoid,
} from './compiled-model.js';
import { expectedMargin, type ShapScratch, shapScratch, treeShap } from './tree-shap.js';

/** How many of the features that moved the score most a decision lists as reasons. */
export const MODEL_REASONS = 5;
/** Contributions smaller than this (in score points) are not worth a reason. */
const MIN_REASON_POINTS = 0.5;

/** A model ready for the decision path, with what it needs to explain a score. */
export interface ScoringModel {
  version: string;
  compiled: CompiledModel;
  /** A sentence per attribute name, for reasons; the name itself when unknown. */
  describe(name: string): string;
  /** The score of a decision the model knows nothing about: where explanations start from. */
  readonly baseScore: number;
  readonly biasMargin: number;
  readonly input: Float64Array;
  readonly contributions: Float64Array;
  readonly scratch: ShapScratch;
}

export function scoringModel(
  version: string,
  compiled: CompiledModel,
  describe: (name: string) => string,
): ScoringModel {
  const biasMargin = expectedMargin(compiled);
  return {
    version,
    compiled,
    describe,
    biasMargin,
    baseScore: 100 * probabilityOf(compiled, biasMargin),
    input: new Float64Array(compiled.features.length),
    contributions: new Float64Array(compiled.features.length),
    scratch: shapScratch(compiled),
  };
}

export interface ModelScore {
  score: number;
  probability: number;
  margin: number;
  /** The model's input the score was computed from (the model's own buffer). */
  input: Float64Array;
}

function formatValue(value: unknown): string {
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  if (value === undefined || value === null) return 'missing';
  return String(value);
}

/** Scores a decision's features: the model's margin, its calibrated probability, the score. */
export function scoreFeatures(model: ScoringModel, features: FeatureSnapshot): ModelScore {
  const x = modelInput(model.compiled, features, model.input);
  const margin = predictMargin(model.compiled, x);
  const probability = probabilityOf(model.compiled, margin);
  return { score: scoreOf(probability), probability, margin, input: x };
}

/**
 * The features that moved a score most, as reasons. TreeSHAP splits the margin among the
 * features, and each share is turned into score points: the points of all features add up to
 * the score minus the base score (the score of an event the model knows nothing about), so
 * "+18" means this feature raised the score by about 18 of those points.
 */
export function explainScore(model: ScoringModel, features: FeatureSnapshot, scored: ModelScore): Reason[] {
  // The input scoreFeatures built: the decision path does not convert the features twice.
  const { contributions } = treeShap(model.compiled, scored.input, model.contributions, model.scratch);
  const marginMoved = scored.margin - model.biasMargin;
  const pointsMoved = 100 * scored.probability - model.baseScore;
  // Proportional shares of the score's move; for a margin that barely moved, the slope there.
  const scale =
    Math.abs(marginMoved) > 1e-9
      ? pointsMoved / marginMoved
      : 100 * sigmoid(scored.margin) * (1 - sigmoid(scored.margin));
  const ranked: { i: number; points: number }[] = [];
  for (let i = 0; i < contributions.length; i++) {
    const points = (contributions[i] as number) * scale;
    if (Math.abs(points) >= MIN_REASON_POINTS) ranked.push({ i, points });
  }
  ranked.sort((a, b) => Math.abs(b.points) - Math.abs(a.points));
  return ranked.slice(0, MODEL_REASONS).map(({ i, points }): Reason => {
    const name = (model.compiled.features[i] as { name: string }).name;
    const rounded = Math.round(points);
    const signed = rounded >= 0 ? `+${rounded}` : String(rounded);
    return {
      kind: 'feature',
      code: name,
      description: `${model.describe(name)} = ${formatValue(features[name])}: ${signed}`,
      contribution: Math.round(points * 10) / 10,
    };
  });
}
