import type { DecisionOutcome } from '@warden/engine';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { IngestObserver } from './use-cases/ingest-events.js';
import type { ModelDrift } from './use-cases/model-drift.js';

/** Prometheus metrics of one Warden instance (own registry, so several apps can share a process). */
export class Metrics implements IngestObserver {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'warden_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'warden_decisions_total',
    help: 'Decisions made, by event type and action',
    labelNames: ['event_type', 'action'] as const,
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'warden_events_total',
    help: 'Events accepted, by type and whether they were new or duplicates',
    labelNames: ['type', 'status'] as const,
    registers: [this.registry],
  });

  readonly ruleMatches = new Counter({
    name: 'warden_rule_matches_total',
    help: 'Rule matches by rule id and mode (active or shadow), counted when the rule ran',
    labelNames: ['rule_id', 'mode'] as const,
    registers: [this.registry],
  });
  readonly ruleErrors = new Counter({
    name: 'warden_rule_errors_total',
    help: 'Rules that failed at run time (the decision went on without them), by rule id',
    labelNames: ['rule_id'] as const,
    registers: [this.registry],
  });

  readonly scores = new Histogram({
    name: 'warden_model_score',
    help: 'Scores the active model gave, by model version',
    labelNames: ['model_version'] as const,
    buckets: [5, 10, 20, 30, 40, 50, 65, 75, 90, 100],
    registers: [this.registry],
  });
  /** Set once the services exist: the drift of the active model's inputs. */
  drift: ModelDrift | null = null;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'warden_' });
    const metrics = this;
    new Gauge({
      name: 'warden_model_feature_psi',
      help: "Population stability index of each of the active model's numeric features: recent decisions against its training data (> 0.25: the feature has shifted)",
      labelNames: ['model_version', 'feature'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const d of metrics.drift?.stability() ?? [])
          this.set({ model_version: d.version, feature: d.feature }, d.psi);
      },
    });
  }

  ingested(type: string, status: 'created' | 'duplicate', action: string | null): void {
    this.events.inc({ type, status });
    if (action && status === 'created') this.decisions.inc({ event_type: type, action });
  }

  decided(outcome: DecisionOutcome): void {
    for (const reason of outcome.reasons) {
      if (reason.rule_id) this.ruleMatches.inc({ rule_id: reason.rule_id, mode: reason.mode ?? 'active' });
    }
    for (const error of outcome.ruleErrors) this.ruleErrors.inc({ rule_id: error.rule_id });
    if (outcome.score !== null && outcome.modelVersion !== null) {
      this.scores.observe({ model_version: outcome.modelVersion }, outcome.score);
      this.drift?.observe(outcome);
    }
  }
}
