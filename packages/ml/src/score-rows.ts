import {
  compileModel,
  type FeatureSnapshot,
  type ModelDocument,
  modelInput,
  predictMargin,
  probabilityOf,
} from '@warden/engine';

/**
 * Scores feature snapshots with a model just trained or calibrated, the way the decision path
 * scores them (compileModel → modelInput → predictMargin): what evaluation and calibration read.
 */
export function scoreSnapshots(
  doc: ModelDocument,
  snapshots: readonly FeatureSnapshot[],
): { margins: Float64Array; probabilities: Float64Array } {
  const compiled = compileModel(doc);
  if (!compiled.ok) throw new Error(`The model does not compile: ${compiled.problem.message}`);
  const model = compiled.value;
  const x = new Float64Array(doc.features.length);
  const margins = new Float64Array(snapshots.length);
  const probabilities = new Float64Array(snapshots.length);
  snapshots.forEach((features, i) => {
    const margin = predictMargin(model, modelInput(model, features, x));
    margins[i] = margin;
    probabilities[i] = probabilityOf(model, margin);
  });
  return { margins, probabilities };
}
