import type { ModelFeature } from '@warden/engine';

/**
 * Training data in columns: one Float64Array per feature (NaN = missing; a categorical feature
 * holds category indices into its `categories`), one label per row (1 = fraud), and optionally
 * a weight and an event time per row. Columns keep a million rows of sixty features in about
 * 480 MB without a JS object per row.
 */
export interface Dataset {
  features: ModelFeature[];
  rows: number;
  columns: Float64Array[];
  labels: Uint8Array;
  /** Sample weights; 1 for every row when absent. */
  weights?: Float64Array;
  /** Event time of each row (ms since the epoch), for time-ordered splits. */
  times?: Float64Array;
}
