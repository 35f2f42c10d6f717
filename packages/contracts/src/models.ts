import { type Static, Type } from '@sinclair/typebox';
import { DECISION_EVENT_TYPES } from './event-types.js';

const closed = { additionalProperties: false } as const;
const lit = <T extends string>(values: readonly T[], options: { description?: string } = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );

export const MODEL_STATUSES = ['candidate', 'active', 'shadow', 'retired'] as const;
export const MODEL_KINDS = ['transaction', 'user'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export type ModelStatus = (typeof MODEL_STATUSES)[number];

const Bin = Type.Object({
  from: Type.Number(),
  to: Type.Number(),
  count: Type.Integer(),
});

/** What a model was measured at on data it did not train on (see docs/models.md). */
export const ModelMetrics = Type.Object(
  {
    rows: Type.Integer(),
    frauds: Type.Integer(),
    rocAuc: Type.Number(),
    averagePrecision: Type.Number(),
    recallAt1PctFpr: Type.Number(),
    recallAt5PctFpr: Type.Number(),
    cardPrecisionAt100: Type.Union([Type.Number(), Type.Null()]),
    calibration: Type.Array(
      Type.Object({
        from: Type.Number(),
        to: Type.Number(),
        count: Type.Integer(),
        meanPredicted: Type.Number(),
        observedRate: Type.Number(),
      }),
    ),
    histogram: Type.Array(Type.Composite([Bin, Type.Object({ frauds: Type.Integer() })])),
    thresholds: Type.Array(
      Type.Object({
        score: Type.Integer(),
        flagged: Type.Integer(),
        precision: Type.Number(),
        recall: Type.Number(),
      }),
    ),
  },
  { description: 'Evaluation on held-out data: the newest 20% of the training range, by time' },
);
export type ModelMetrics = Static<typeof ModelMetrics>;

export const ModelSummary = Type.Object(
  {
    version: Type.String({ description: 'The version decisions name in model_version' }),
    kind: lit(MODEL_KINDS, {
      description:
        'transaction: scores each decision; user: scores the user behind it, shown on the user profile',
    }),
    status: lit(MODEL_STATUSES),
    source: Type.String({ description: 'warden (trained here), xgboost or lightgbm (imported)' }),
    features: Type.Array(Type.String(), { description: 'The attributes the model reads' }),
    trees: Type.Integer(),
    metrics: Type.Union([ModelMetrics, Type.Null()]),
    training: Type.Union([
      Type.Object(
        {
          from: Type.String({ format: 'date-time' }),
          to: Type.String({ format: 'date-time' }),
          labels_known_by: Type.String({ format: 'date-time' }),
          event_types: Type.Array(Type.String()),
          rows: Type.Integer(),
          frauds: Type.Integer(),
          best_round: Type.Integer(),
          ms: Type.Integer(),
        },
        {},
      ),
      Type.Null(),
    ]),
    note: Type.Union([Type.String(), Type.Null()]),
    created_by: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    status_changed_by: Type.String(),
    status_changed_at: Type.String({ format: 'date-time' }),
  },
  {},
);
export type ModelSummary = Static<typeof ModelSummary>;

export const ModelTrainingRequest = Type.Object(
  {
    from: Type.String({ format: 'date-time', description: 'Decisions that occurred from this time…' }),
    to: Type.String({ format: 'date-time', description: '…to this time (exclusive)' }),
    labels_known_by: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Only labels that had arrived by then count (default: now)',
      }),
    ),
    event_types: Type.Optional(
      Type.Array(lit(DECISION_EVENT_TYPES), {
        minItems: 1,
        uniqueItems: true,
        description: 'The decisions to learn from (default: payment.attempted)',
      }),
    ),
    kind: Type.Optional(
      lit(MODEL_KINDS, {
        description:
          'transaction (default): learn from each decision; user: learn from each user as of their last decision in range, labelled fraud when the user or any of their events was',
      }),
    ),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  closed,
);
export type ModelTrainingRequest = Static<typeof ModelTrainingRequest>;

export const ModelTraining = Type.Object(
  {
    id: Type.String({ description: 'trn_…' }),
    status: lit(['running', 'succeeded', 'failed'] as const),
    request: ModelTrainingRequest,
    processed: Type.Integer(),
    total: Type.Integer(),
    model_version: Type.Union([Type.String(), Type.Null()], { description: 'The candidate it made' }),
    error: Type.Union([Type.String(), Type.Null()]),
    created_by: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  {},
);
export type ModelTraining = Static<typeof ModelTraining>;
