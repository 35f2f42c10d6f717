import {
  DECISION_EVENT_TYPES,
  type ModelKind,
  type ModelMetrics,
  type ModelSummary,
  type ModelTraining,
  type ModelTrainingRequest,
} from '@warden/contracts';
import { compileModel, type FeatureSnapshot, importModel, type ModelDocument } from '@warden/engine';
import {
  datasetFromRows,
  evaluate,
  fitCalibration,
  type StabilityBaseline,
  scoreSnapshots,
  stabilityBaseline,
  type TrainOptions,
  train,
  trainingFeatureNames,
} from '@warden/ml';
import type { Kysely } from 'kysely';
import type { Keyring } from '../crypto/keyring.js';
import type { Database } from '../db/schema.js';
import { WardenError } from '../errors.js';
import type { Clock, IdGenerator } from '../ids.js';
import { decisionBlocks } from '../repositories/decisions.js';
import {
  findModel,
  findTraining,
  insertModel,
  insertTraining,
  lastRetiredModel,
  listModels,
  lockRegistry,
  type ModelRow,
  type ModelSummaryRow,
  type ModelTrainingRow,
  modelWithStatus,
  nextModelVersion,
  setModelStatus,
  trainingDecisionsInBlocks,
  updateTraining,
} from '../repositories/models.js';
import { openSnapshot } from '../snapshot-codec.js';
import { iso } from '../time.js';
import type { AuditLog } from './audit.js';
import { labelOf, loadLabels } from './labels.js';
import type { LiveState } from './live-state.js';

/**
 * What a user model may read: the account and the identifiers and history around it, not the
 * event at hand (its amount, its card), so the user's score does not swing with each payment.
 */
const USER_FEATURE_PREFIXES = [
  'user.',
  'email.',
  'phone.',
  'device.',
  'velocity.user.',
  'velocity.email.',
  'velocity.phone.',
  'velocity.device.',
  'velocity.reported_user.',
];

/**
 * One row per user: their features as of their newest decision in range, labelled fraud when
 * the user was, or any of their decisions in range was.
 */
function asUserRows<T extends { atMs: number; fraud: boolean; userId: string | null }>(rows: T[]): T[] {
  const byUser = new Map<string, { newest: T; fraud: boolean }>();
  for (const r of rows) {
    if (!r.userId) continue;
    const known = byUser.get(r.userId);
    if (!known) byUser.set(r.userId, { newest: r, fraud: r.fraud });
    else {
      if (r.atMs >= known.newest.atMs) known.newest = r;
      known.fraud ||= r.fraud;
    }
  }
  return [...byUser.values()].map(({ newest, fraud }) => ({ ...newest, fraud }));
}

/** About 16 MB of table per read, as backtests read. */
const BLOCKS_PER_READ = 2000;
/** The newest share of the range, by time, that the report is measured on. */
const TEST_SHARE = 0.2;
/** The share before it that early stopping and calibration use. */
const VALIDATION_SHARE = 0.2;
/** Fewer rows or frauds than this cannot make a model worth its name. */
export const MIN_TRAINING_ROWS = 200;
export const MIN_TRAINING_FRAUDS = 20;
/** A running training that has not moved for this long was cut off (its process stopped). */
const STALLED_MS = 300_000;

export type TrainingInfo = NonNullable<ModelSummary['training']>;

/** Per feature, the training data's distribution: live traffic is compared with it (drift). */
export type DriftBaseline = Record<string, StabilityBaseline>;

export function summaryView(row: ModelSummaryRow, trees: number): ModelSummary {
  return {
    version: String(row.version),
    kind: row.kind,
    status: row.status,
    source: row.source,
    features: row.features,
    trees,
    metrics: (row.metrics as ModelMetrics | null) ?? null,
    training: (row.training as TrainingInfo | null) ?? null,
    note: row.note,
    created_by: row.created_by,
    created_at: iso(row.created_at),
    status_changed_by: row.status_changed_by,
    status_changed_at: iso(row.status_changed_at),
  };
}

function parseVersion(version: string): number {
  const n = Number(version);
  if (!Number.isInteger(n) || n < 1)
    throw new WardenError('invalid_field', 'A model version is a whole number');
  return n;
}

function trainingView(row: ModelTrainingRow, now: Date): ModelTraining {
  const stalled = row.status === 'running' && now.getTime() - new Date(row.updated_at).getTime() > STALLED_MS;
  return {
    id: row.id,
    status: stalled ? 'failed' : row.status,
    request: row.request as ModelTrainingRequest,
    processed: row.processed,
    total: row.total,
    model_version: row.model_version === null ? null : String(row.model_version),
    error: stalled ? 'The process running it stopped; run it again' : row.error,
    created_by: row.created_by,
    created_at: iso(row.created_at),
    finished_at: row.finished_at ? iso(row.finished_at) : null,
  };
}

export interface TrainingProgress {
  phase: 'reading' | 'training' | 'evaluating';
  done: number;
  total: number;
}

/**
 * The model registry and training from stored decisions. A model is a candidate when it arrives
 * (trained here or imported), and moves between candidate, shadow (scored beside the active model
 * and stored, never enforced), active (its score decides) and retired (was active). Every move is
 * audited and applies on every node within one refresh.
 */
export class Models {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly live: LiveState,
    private readonly audit: AuditLog,
    private readonly keyring: Keyring,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly onError: (error: unknown) => void,
  ) {}

  async list(): Promise<ModelSummary[]> {
    const rows = await listModels(this.db);
    return rows.map((r) => summaryView(r, r.trees));
  }

  async get(version: string): Promise<ModelSummary> {
    const row = await this.row(version);
    return summaryView(row, (row.document as ModelDocument).trees.length);
  }

  /** The model file itself, in Warden's format: to keep, inspect or import elsewhere. */
  async document(version: string): Promise<ModelDocument> {
    return (await this.row(version)).document as ModelDocument;
  }

  /**
   * Stores a model file (Warden JSON, XGBoost JSON or LightGBM text) as a candidate. Its features
   * must be attributes Warden computes, or the platform's own `attributes.*`: a feature the
   * decision path never fills would always be missing. `featureNames` renames the file's
   * features in order (XGBoost and LightGBM files often say only f0, f1, …).
   */
  async importFile(
    text: string,
    options: { featureNames?: string[]; note?: string },
    actor: string,
  ): Promise<ModelSummary> {
    const imported = importModel(text);
    if (!imported.ok) throw WardenError.from(imported.problem);
    let doc = imported.value;
    const rename = options.featureNames;
    if (rename) {
      if (rename.length !== doc.features.length || rename.some((n) => !n))
        throw new WardenError(
          'invalid_field',
          `feature_names must name all ${doc.features.length} features of the model, in order (got ${rename.length})`,
          '/feature_names',
        );
      doc = { ...doc, features: doc.features.map((f, i) => ({ ...f, name: rename[i] as string })) };
    }
    const known = this.live.environment.types;
    const unknown = doc.features
      .map((f) => f.name)
      .filter((name) => !known.has(name) && !name.startsWith('attributes.'));
    if (unknown.length) {
      throw new WardenError(
        'invalid_model',
        `The model reads features Warden does not compute: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', …' : ''}. Name them after catalogue attributes (GET /v1/attributes), in order, with feature_names.`,
      );
    }
    const row = await this.store(
      doc,
      { kind: 'transaction', metrics: null, training: null, baseline: null },
      options.note ?? null,
      actor,
      'model.imported',
    );
    return summaryView(row, doc.trees.length);
  }

  async activate(version: string, actor: string): Promise<ModelSummary> {
    const v = parseVersion(version);
    const row = await this.db.transaction().execute(async (tx) => {
      await lockRegistry(tx);
      const target = await findModel(tx, v);
      if (!target) throw new WardenError('not_found', `No model version ${v}`);
      if (target.status === 'active') return target;
      const current = await modelWithStatus(tx, 'active', target.kind);
      const now = this.clock.now();
      if (current) await setModelStatus(tx, current.version, 'retired', actor, now);
      await setModelStatus(tx, v, 'active', actor, now);
      await this.audit.append(tx, {
        actor,
        action: 'model.activated',
        target: String(v),
        details: { previous: current ? String(current.version) : null, was: target.status },
      });
      return { ...target, status: 'active' as const, status_changed_by: actor, status_changed_at: now };
    });
    await this.live.refresh();
    return summaryView(row, (row.document as ModelDocument).trees.length);
  }

  /** Scores every decision with this model too, beside the active one, without enforcing it. */
  async shadow(version: string, actor: string): Promise<ModelSummary> {
    const v = parseVersion(version);
    const row = await this.db.transaction().execute(async (tx) => {
      await lockRegistry(tx);
      const target = await findModel(tx, v);
      if (!target) throw new WardenError('not_found', `No model version ${v}`);
      if (target.status === 'active')
        throw new WardenError('conflict', `Model ${v} is active; deactivate it or activate another first`);
      if (target.status === 'shadow') return target;
      if (target.kind === 'user')
        throw new WardenError(
          'conflict',
          'A user model cannot be shadowed: activate it, or compare its report',
        );
      const current = await modelWithStatus(tx, 'shadow', target.kind);
      const now = this.clock.now();
      if (current) await setModelStatus(tx, current.version, 'candidate', actor, now);
      await setModelStatus(tx, v, 'shadow', actor, now);
      await this.audit.append(tx, {
        actor,
        action: 'model.shadowed',
        target: String(v),
        details: { previous: current ? String(current.version) : null },
      });
      return { ...target, status: 'shadow' as const, status_changed_by: actor, status_changed_at: now };
    });
    await this.live.refresh();
    return summaryView(row, (row.document as ModelDocument).trees.length);
  }

  /** Takes the active or the shadow model out of force: no score, or no shadow score. */
  async deactivate(
    which: 'active' | 'shadow',
    actor: string,
    kind: ModelKind = 'transaction',
  ): Promise<ModelSummary> {
    const row = await this.db.transaction().execute(async (tx) => {
      await lockRegistry(tx);
      const current = await modelWithStatus(tx, which, kind);
      if (!current) throw new WardenError('not_found', `No ${kind} model is ${which}`);
      const now = this.clock.now();
      const status = which === 'active' ? 'retired' : 'candidate';
      await setModelStatus(tx, current.version, status, actor, now);
      await this.audit.append(tx, {
        actor,
        action: which === 'active' ? 'model.deactivated' : 'model.shadow_stopped',
        target: String(current.version),
      });
      return { ...current, status, status_changed_by: actor, status_changed_at: now } as ModelSummaryRow;
    });
    await this.live.refresh();
    return this.get(String(row.version));
  }

  /** Goes back to the model that was active before the current one. */
  async rollback(actor: string, kind: ModelKind = 'transaction'): Promise<ModelSummary> {
    const row = await this.db.transaction().execute(async (tx) => {
      await lockRegistry(tx);
      const current = await modelWithStatus(tx, 'active', kind);
      const previous = await lastRetiredModel(tx, kind);
      if (!previous)
        throw new WardenError(
          'conflict',
          `No ${kind} model was active before: there is nothing to roll back to`,
        );
      const now = this.clock.now();
      if (current) await setModelStatus(tx, current.version, 'retired', actor, new Date(now.getTime() - 1));
      await setModelStatus(tx, previous.version, 'active', actor, now);
      await this.audit.append(tx, {
        actor,
        action: 'model.rolled_back',
        target: String(previous.version),
        details: { from: current ? String(current.version) : null },
      });
      return previous;
    });
    await this.live.refresh();
    return this.get(String(row.version));
  }

  async training(id: string): Promise<ModelTraining> {
    const row = await findTraining(this.db, id);
    if (!row) throw new WardenError('not_found', `No training ${id}`);
    return trainingView(row, this.clock.now());
  }

  /** Starts training in the background; progress and the model it makes are read with training(). */
  async startTraining(request: ModelTrainingRequest, actor: string): Promise<ModelTraining> {
    this.checkRequest(request);
    const now = this.clock.now();
    const row: ModelTrainingRow = {
      id: this.ids.next('trn'),
      status: 'running',
      request,
      processed: 0,
      total: 0,
      model_version: null,
      error: null,
      created_by: actor,
      created_at: now,
      updated_at: now,
      finished_at: null,
    };
    await insertTraining(this.db, { ...row, request: JSON.stringify(request) });
    let lastWrite = 0;
    void this.train(request, actor, {
      onProgress: async (p) => {
        if (performance.now() - lastWrite < 1000) return;
        lastWrite = performance.now();
        await updateTraining(this.db, row.id, {
          processed: p.done,
          total: p.total,
          updated_at: this.clock.now(),
        });
      },
    })
      .then(async (model) => {
        const at = this.clock.now();
        await updateTraining(this.db, row.id, {
          status: 'succeeded',
          model_version: Number(model.version),
          finished_at: at,
          updated_at: at,
        });
      })
      .catch(async (error: unknown) => {
        if (!(error instanceof WardenError)) this.onError(error);
        const at = this.clock.now();
        await updateTraining(this.db, row.id, {
          status: 'failed',
          error: error instanceof Error ? error.message : 'failed',
          finished_at: at,
          updated_at: at,
        }).catch(this.onError);
      });
    return trainingView(row, now);
  }

  private checkRequest(request: ModelTrainingRequest): { from: Date; to: Date; knownBy: Date } {
    const from = new Date(request.from);
    const to = new Date(request.to);
    if (!(from < to)) throw new WardenError('invalid_field', 'from must be before to', '/to');
    // Without a cut-off, every label known now counts.
    const knownBy = request.labels_known_by ? new Date(request.labels_known_by) : this.clock.now();
    if (request.labels_known_by && knownBy < to)
      throw new WardenError(
        'invalid_field',
        'labels_known_by must not be before to: decisions after it would have no labels yet',
        '/labels_known_by',
      );
    return { from, to, knownBy };
  }

  /**
   * Trains a candidate on stored decisions: each decision's feature snapshot as it was at
   * decision time, and its label as known at `labels_known_by` (platform labels, chargebacks,
   * fraud alerts; a decision nobody labelled counts as legitimate). The newest 20% by time is
   * held out for the report, the 20% before it for early stopping and calibration.
   */
  async train(
    request: ModelTrainingRequest,
    actor: string,
    options: { onProgress?: (p: TrainingProgress) => Promise<void> | void; trainOptions?: TrainOptions } = {},
  ): Promise<ModelSummary> {
    const { from, to, knownBy } = this.checkRequest(request);
    const kind = request.kind ?? 'transaction';
    // A user model learns from every decided event type unless told otherwise: the user's state
    // shows in all of them.
    const eventTypes =
      request.event_types ?? (kind === 'user' ? [...DECISION_EVENT_TYPES] : ['payment.attempted']);
    const progress = options.onProgress ?? (() => {});
    const started = performance.now();
    const labels = await loadLabels(this.db, this.keyring, knownBy);
    const schemas = this.live.snapshots;
    await schemas.loadAll();
    const blocks = await decisionBlocks(this.db);
    let rows: {
      features: FeatureSnapshot;
      atMs: number;
      fraud: boolean;
      userId: string | null;
      eventId: string;
    }[] = [];
    for (let first = 0; first < blocks; first += BLOCKS_PER_READ) {
      const page = await trainingDecisionsInBlocks(
        this.db,
        from,
        to,
        eventTypes,
        first,
        first + BLOCKS_PER_READ,
      );
      for (const r of page) {
        if (!r.snapshot) continue;
        rows.push({
          features: openSnapshot(this.keyring, r.snapshot, schemas),
          atMs: new Date(r.occurred_at).getTime(),
          fraud: labelOf(labels, r.event_id, r.user_id) === true,
          userId: r.user_id,
          eventId: r.event_id,
        });
      }
      await progress({ phase: 'reading', done: Math.min(blocks, first + BLOCKS_PER_READ), total: blocks });
    }
    if (kind === 'user') rows = asUserRows(rows);
    const frauds = rows.filter((r) => r.fraud).length;
    if (rows.length < MIN_TRAINING_ROWS || frauds < MIN_TRAINING_FRAUDS) {
      throw new WardenError(
        'invalid_field',
        `Not enough to learn from: ${rows.length} decisions with ${frauds} labelled fraud between ${iso(from)} and ${iso(to)} (at least ${MIN_TRAINING_ROWS} and ${MIN_TRAINING_FRAUDS} needed). Widen the range, or send labels (POST /v1/events with type label).`,
        '/from',
      );
    }
    rows.sort((a, b) => a.atMs - b.atMs);
    const testStart = Math.floor(rows.length * (1 - TEST_SHARE));
    const validStart = Math.floor(testStart * (1 - VALIDATION_SHARE));
    const fit = rows.slice(0, validStart);
    const valid = rows.slice(validStart, testStart);
    const test = rows.slice(testStart);
    const names = trainingFeatureNames(fit.map((r) => r.features)).filter(
      (name) => kind === 'transaction' || USER_FEATURE_PREFIXES.some((p) => name.startsWith(p)),
    );
    if (!names.length)
      throw new WardenError('invalid_field', 'The decisions in range hold no usable features', '/from');
    const toData = (part: typeof rows, features?: ModelDocument['features']) =>
      datasetFromRows(
        part.map((r) => r.features),
        part.map((r) => (r.fraud ? 1 : 0)),
        names,
        { times: part.map((r) => r.atMs), ...(features ? { features } : {}) },
      );
    const fitData = toData(fit);
    const validData = toData(valid, fitData.features);
    const trained = await train(fitData, {
      positiveWeight: 'balanced',
      ...options.trainOptions,
      validation: validData,
      onProgress: (p) => {
        void progress({ phase: 'training', done: p.round, total: p.rounds });
      },
    });
    await progress({ phase: 'evaluating', done: 0, total: 1 });
    // Calibrated on the validation rows: the class weight skews raw margins on purpose.
    const document: ModelDocument = {
      ...trained.model,
      calibration: fitCalibration(
        scoreSnapshots(
          trained.model,
          valid.map((r) => r.features),
        ).margins,
        valid.map((r) => (r.fraud ? 1 : 0)),
      ),
    };
    const scored = scoreSnapshots(
      document,
      test.map((r) => r.features),
    );
    const testMargins = scored.margins;
    const metrics = evaluate({
      margins: testMargins,
      probabilities: scored.probabilities,
      labels: test.map((r) => (r.fraud ? 1 : 0)),
      // Card precision at 100, with users as the customers and UTC days as the handbook's days.
      ...(kind === 'transaction'
        ? {
            ranked: test.flatMap((r, i) =>
              r.userId
                ? [
                    {
                      day: new Date(r.atMs).toISOString().slice(0, 10),
                      entity: r.userId,
                      score: testMargins[i] as number,
                      label: r.fraud ? 1 : 0,
                    },
                  ]
                : [],
            ),
          }
        : {}),
    });
    const baseline: DriftBaseline = {};
    document.features.forEach((f, i) => {
      if (f.kind === 'numeric') baseline[f.name] = stabilityBaseline(fitData.columns[i] as Float64Array);
    });
    const training: TrainingInfo = {
      from: iso(from),
      to: iso(to),
      labels_known_by: iso(knownBy),
      event_types: eventTypes,
      rows: rows.length,
      frauds,
      best_round: trained.bestRound,
      ms: Math.round(performance.now() - started),
    };
    const row = await this.store(
      document,
      { kind, metrics: metrics as ModelMetrics, training, baseline },
      request.note ?? null,
      actor,
      'model.trained',
    );
    await progress({ phase: 'evaluating', done: 1, total: 1 });
    return summaryView(row, document.trees.length);
  }

  private async store(
    doc: ModelDocument,
    extra: {
      kind: ModelKind;
      metrics: ModelMetrics | null;
      training: TrainingInfo | null;
      baseline: DriftBaseline | null;
    },
    note: string | null,
    actor: string,
    action: string,
  ): Promise<ModelRow> {
    const compiled = compileModel(doc);
    if (!compiled.ok) throw WardenError.from(compiled.problem);
    const training = extra.training;
    return this.db.transaction().execute(async (tx) => {
      await lockRegistry(tx);
      const version = await nextModelVersion(tx);
      const now = this.clock.now();
      const row = {
        version,
        kind: extra.kind,
        status: 'candidate' as const,
        source: doc.source,
        features: doc.features.map((f) => f.name),
        note,
        created_by: actor,
        created_at: now,
        status_changed_by: actor,
        status_changed_at: now,
      };
      await insertModel(tx, {
        ...row,
        document: JSON.stringify(doc),
        metrics: extra.metrics ? JSON.stringify(extra.metrics) : null,
        training: training ? JSON.stringify(training) : null,
        baseline: extra.baseline ? JSON.stringify(extra.baseline) : null,
      });
      await this.audit.append(tx, {
        actor,
        action,
        target: String(version),
        details: { source: doc.source, features: doc.features.length, trees: doc.trees.length },
      });
      return { ...row, document: doc, metrics: extra.metrics, training, baseline: extra.baseline };
    });
  }

  private async row(version: string): Promise<ModelRow> {
    const row = await findModel(this.db, parseVersion(version));
    if (!row) throw new WardenError('not_found', `No model version ${version}`);
    return row;
  }
}
