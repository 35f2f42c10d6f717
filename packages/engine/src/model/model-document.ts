/**
 * The stored form of a learned model: a binary classifier made of regression trees whose leaf
 * values add up to a margin (log-odds). Warden's own trainer (packages/ml) writes it, and the
 * XGBoost and LightGBM importers translate into it, so the decision path has one format to run.
 *
 * Trees are kept as parallel arrays, one entry per node, node 0 the root, child indices local to
 * the tree: it is JSON as it is, and compiles to flat typed arrays without a pointer walk.
 */

export const MODEL_FORMAT = 'warden-gbdt';
export const MODEL_FORMAT_VERSION = 1;

export type ModelFeatureKind = 'numeric' | 'categorical';

/** A feature the model reads from a decision's feature snapshot, by attribute name. */
export interface ModelFeature {
  /** A catalogue attribute (`velocity.card.declined_1h`, `ip.country`, …). */
  name: string;
  kind: ModelFeatureKind;
  /**
   * Categorical features only: the values the model knows, by index. A split lists the indices
   * that go left; a value not in this list is treated as missing.
   */
  categories?: string[];
}

export interface ModelTree {
  /** Feature index of each node's split; -1 marks a leaf. */
  feature: number[];
  /** Numeric splits: a value strictly below the threshold goes left. 0 for leaves and categorical splits. */
  threshold: number[];
  /** Local index of each node's children; -1 for leaves. */
  left: number[];
  right: number[];
  /** Where a missing value goes: 1 left, 0 right. */
  missing_left: number[];
  /** Categorical splits: the category indices that go left; null for numeric splits and leaves. */
  categories_left: (number[] | null)[];
  /** Leaf values (margin units); 0 for internal nodes. */
  value: number[];
  /**
   * Training weight that reached each node (sum of hessians, or of sample weights). TreeSHAP
   * needs it: it is how the model expects a feature it does not see to fall.
   */
  cover: number[];
}

/** A tree with no nodes yet, for importers and the trainer to push nodes into. */
export function emptyTree(): ModelTree {
  return {
    feature: [],
    threshold: [],
    left: [],
    right: [],
    missing_left: [],
    categories_left: [],
    value: [],
    cover: [],
  };
}

/**
 * Maps a raw margin to a calibrated probability: piecewise linear through the points (margins
 * increasing, probabilities non-decreasing), flat beyond the ends. Without one, the probability
 * is the logistic function of the margin.
 */
export interface ModelCalibration {
  margins: number[];
  probabilities: number[];
}

export interface ModelDocument {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_FORMAT_VERSION;
  objective: 'binary:logistic';
  /** Where the trees came from. */
  source: 'warden' | 'xgboost' | 'lightgbm';
  features: ModelFeature[];
  /** Added to the sum of the trees' leaf values. */
  base_margin: number;
  trees: ModelTree[];
  calibration: ModelCalibration | null;
  /**
   * XGBoost compares 32-bit floats: with 'float32', inputs are rounded to float32 before the
   * splits so imported models give exactly the scores XGBoost gives.
   */
  input_precision?: 'float64' | 'float32';
}
