/**
 * The per-row pass between two trees, shared by the main thread and the worker threads: add the
 * new tree's leaf value to each training row's margin, then work out the row's logistic
 * gradient and hessian for the next tree and its share of the training loss.
 *
 * Rows are taken in row order (the training rows list), so margins, labels and gradients stream
 * through the cache; each row finds its leaf through `leafOf`, which the main thread scatters
 * from the tree's partition first (a small array, cheap to write out of order). The rows go in
 * fixed chunks of GRADIENT_CHUNK; each chunk's loss is summed by one thread in row order and the
 * chunks are added up in chunk order, so the loss is the same number whatever the thread count.
 */

export const GRADIENT_CHUNK = 16_384;

/** A logistic hessian is floored, as XGBoost does, so leaves of confident rows stay finite. */
export const MIN_HESSIAN = 1e-16;

export interface GradientBuffers {
  /** Margin of every row of the training data. */
  margins: Float64Array;
  labels: Uint8Array;
  /** Sample weights; null when every row weighs 1. */
  weights: Float64Array | null;
  positiveWeight: number;
  /** Gradient and hessian of each row, interleaved. */
  gh: Float64Array;
  /** The training rows, increasing. */
  rows: Uint32Array;
  /** Leaf of each row in the tree just grown, and each leaf's value. */
  leafOf: Uint16Array | Uint32Array;
  leafValue: Float64Array;
  /** Per chunk: the weighted loss and the weight it sums. */
  chunkLoss: Float64Array;
  chunkWeight: Float64Array;
}

/**
 * Runs chunks `from..to-1` of the training rows. With `addLeaves` false the margins are taken
 * as they are (the trainer already added a tree to them, or there is none yet).
 */
export function updateChunks(b: GradientBuffers, addLeaves: boolean, from: number, to: number): void {
  const { margins, labels, weights, positiveWeight, gh, rows, leafOf, leafValue } = b;
  const n = rows.length;
  for (let c = from; c < to; c++) {
    const i1 = Math.min(n, (c + 1) * GRADIENT_CHUNK);
    let loss = 0;
    let total = 0;
    for (let i = c * GRADIENT_CHUNK; i < i1; i++) {
      const r = rows[i] as number;
      let m = margins[r] as number;
      if (addLeaves) {
        m += leafValue[leafOf[r] as number] as number;
        margins[r] = m;
      }
      const y = labels[r] as number;
      const w = (weights ? (weights[r] as number) : 1) * (y === 1 ? positiveWeight : 1);
      // Stable forms: e = exp(-|m|) never overflows, softplus gives the loss.
      const e = Math.exp(-Math.abs(m));
      const prob = m >= 0 ? 1 / (1 + e) : e / (1 + e);
      loss += w * ((y === 1 ? Math.max(-m, 0) : Math.max(m, 0)) + Math.log1p(e));
      total += w;
      gh[2 * r] = (prob - y) * w;
      gh[2 * r + 1] = Math.max(prob * (1 - prob), MIN_HESSIAN) * w;
    }
    b.chunkLoss[c] = loss;
    b.chunkWeight[c] = total;
  }
}
