export { fitCalibration } from './calibration.js';
export * from './dataset.js';
export * from './dataset-builder.js';
export * from './drift.js';
export * from './feature-selection.js';
export {
  averagePrecision,
  type CalibrationBin,
  calibrationTable,
  cardPrecisionAtK,
  type RankedRow,
  recallAtFpr,
  rocAuc,
  scoreHistogram,
} from './metrics.js';
export * from './report.js';
export * from './score-rows.js';
export { TrainingError, type TrainOptions, type TrainResult, train } from './train.js';
