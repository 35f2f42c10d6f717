import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ModelMetrics, ModelSummary } from '@warden/contracts';
import { renderReport } from '@warden/ml';
import { ConfigError } from '../config.js';
import { createRates } from '../rates.js';
import { replayEcommerce } from '../replay/ecommerce.js';
import { replayHandbookModel } from '../replay/handbook-model.js';
import type { Services } from '../services.js';
import { MemoryVelocityStore } from '../velocity/memory-store.js';
import { Progress } from './progress.js';

const out = (line = '') => process.stdout.write(`${line}\n`);

export const MODEL_HELP = `  model list                          Every model: version, status, source, held-out metrics
  model show <version>                One model's evaluation report
  model train --from T --to T [--kind user] [--labels-known-by T] [--event-types a,b] [--note N]
                                      Train a candidate on stored decisions and their labels
                                      (--kind user: a model of users, for the user score)
  model import <file> [--feature-names a,b,…] [--note N]
                                      Import a Warden, XGBoost (JSON) or LightGBM (text) model
  model export <version> <file>       Write a model in Warden's format
  model activate <version>            Make it the model whose score decides
  model shadow <version>              Score beside the active model, stored, never enforced
  model deactivate [--shadow] [--kind user]
                                      Take the active (or shadow) model out of force
  model rollback [--kind user]        Go back to the model active before the current one`;

export const REPLAY_MODEL_HELP = `  replay handbook --train DAY:DAYS [--delay 7] [--test 7] [--data DIR] [--json FILE] [--save-model FILE]
                                      Train on Warden's own features of the handbook data and
                                      score a later week under the handbook's protocol
  replay ecommerce [--data DIR] [--json FILE]
                                      Sign-ups and purchases of the e-commerce data through the
                                      counters, point in time; train on 70%, report on 30%`;

function kindOf(values: { kind?: string }): 'transaction' | 'user' {
  if (values.kind === undefined || values.kind === 'transaction') return 'transaction';
  if (values.kind === 'user') return 'user';
  throw new ConfigError('--kind is transaction or user');
}

function summaryLine(m: ModelSummary): string {
  const metrics = m.metrics
    ? `AUC ${m.metrics.rocAuc.toFixed(3)}  AP ${m.metrics.averagePrecision.toFixed(3)}`
    : 'no held-out metrics (imported)';
  return `${m.version.padStart(4)}  ${m.kind.padEnd(11)}  ${m.status.padEnd(9)}  ${m.source.padEnd(8)}  ${String(m.trees).padStart(4)} trees  ${String(m.features.length).padStart(3)} features  ${metrics}  ${m.created_at}  ${m.note ?? ''}`;
}

export function printReport(metrics: ModelMetrics, title: string): void {
  out(renderReport({ ...metrics, histogram: metrics.histogram }, title));
}

export interface ModelCommandValues {
  from?: string;
  to?: string;
  'labels-known-by'?: string;
  'event-types'?: string;
  note?: string;
  'feature-names'?: string;
  shadow?: boolean;
  kind?: string;
}

/** `warden model …`: the registry from the command line, audited as the actor "cli". */
export async function modelCommand(
  services: Services,
  sub: string | undefined,
  args: (string | undefined)[],
  values: ModelCommandValues,
): Promise<number> {
  const { models } = services;
  const [arg, arg2] = args;
  switch (sub) {
    case 'list': {
      const all = await models.list();
      if (!all.length)
        out('No models yet. Train one (warden model train) or import one (warden model import).');
      for (const m of all) out(summaryLine(m));
      return 0;
    }
    case 'show': {
      if (!arg) throw new ConfigError('Usage: warden model show <version>');
      const m = await models.get(arg);
      out(summaryLine(m));
      out(`features: ${m.features.join(', ')}`);
      if (m.training)
        out(
          `trained on ${m.training.rows} decisions (${m.training.frauds} fraud), ${m.training.from} to ${m.training.to}, labels known by ${m.training.labels_known_by}`,
        );
      if (m.metrics) printReport(m.metrics, `Model ${m.version}, on the newest 20% of its range`);
      return 0;
    }
    case 'train': {
      if (!values.from || !values.to)
        throw new ConfigError(
          'Usage: warden model train --from 2026-01-01T00:00:00Z --to 2026-03-01T00:00:00Z',
        );
      const progress = new Progress('Training', 1);
      const m = await models.train(
        {
          from: values.from,
          to: values.to,
          ...(values['labels-known-by'] ? { labels_known_by: values['labels-known-by'] } : {}),
          ...(values['event-types'] ? { event_types: values['event-types'].split(',') as never } : {}),
          ...(values.note ? { note: values.note } : {}),
          ...(kindOf(values) === 'user' ? { kind: 'user' as const } : {}),
        },
        'cli',
        { onProgress: (p) => progress.update(p.total ? p.done / p.total : 0, p.phase) },
      );
      progress.finish(`model ${m.version}`);
      out(summaryLine(m));
      if (m.metrics) printReport(m.metrics, `Model ${m.version}, on the newest 20% of its range`);
      out(
        `It is a candidate: warden model shadow ${m.version} to try it, warden model activate ${m.version} to use it.`,
      );
      return 0;
    }
    case 'import': {
      if (!arg || !existsSync(arg))
        throw new ConfigError(`Usage: warden model import <file> (no file '${arg ?? ''}')`);
      const m = await models.importFile(
        readFileSync(arg, 'utf8'),
        {
          featureNames: values['feature-names']?.split(',').map((n) => n.trim()),
          ...(values.note ? { note: values.note } : {}),
        },
        'cli',
      );
      out(summaryLine(m));
      return 0;
    }
    case 'export': {
      if (!arg || !arg2) throw new ConfigError('Usage: warden model export <version> <file>');
      writeFileSync(arg2, JSON.stringify(await models.document(arg)));
      out(`Wrote model ${arg} to ${arg2}.`);
      return 0;
    }
    case 'activate':
    case 'shadow': {
      if (!arg) throw new ConfigError(`Usage: warden model ${sub} <version>`);
      const m = sub === 'activate' ? await models.activate(arg, 'cli') : await models.shadow(arg, 'cli');
      out(summaryLine(m));
      return 0;
    }
    case 'deactivate':
      out(summaryLine(await models.deactivate(values.shadow ? 'shadow' : 'active', 'cli', kindOf(values))));
      return 0;
    case 'rollback':
      out(summaryLine(await models.rollback('cli', kindOf(values))));
      return 0;
    default:
      throw new ConfigError(`Unknown command 'model ${sub ?? ''}'. Run: npx warden help`);
  }
}

function days(value: string | undefined, fallback: number, flag: string): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 60)
    throw new ConfigError(`${flag} is a number of days from 1 to 60`);
  return n;
}

/** `warden replay handbook --train …`: the handbook benchmark of the learned model. */
export async function replayHandbookModelCommand(values: {
  data: string;
  train: string;
  delay?: string;
  test?: string;
  json?: string;
  'save-model'?: string;
}): Promise<number> {
  const [trainStart = '', trainDays] = values.train.split(':');
  const options = {
    trainStart,
    trainDays: days(trainDays, 7, '--train DAY:DAYS'),
    delayDays: days(values.delay, 7, '--delay'),
    testDays: days(values.test, 7, '--test'),
  };
  const total = 1_754_155;
  const progress = new Progress('Replaying the handbook', total);
  const trainProgress = new Progress('Training', 1);
  let replayed = false;
  const result = await replayHandbookModel({
    dataDir: values.data,
    store: new MemoryVelocityStore(),
    rates: createRates('EUR'),
    ...options,
    onProgress: (done) => progress.update(done, `${done.toLocaleString('en-US')} transactions`),
    training: {
      onProgress: (p) => {
        if (!replayed) {
          replayed = true;
          progress.finish('features collected');
        }
        trainProgress.update(
          p.round / p.rounds,
          `round ${p.round}, validation loss ${p.validLoss?.toFixed(4) ?? '-'}`,
        );
      },
    },
  });
  trainProgress.finish(`${result.train.trees} trees`);
  out(
    `Replayed ${result.replay.transactions.toLocaleString('en-US')} transactions in ${(result.replay.ms / 1000).toFixed(1)} s. Trained on ${result.train.rows.toLocaleString('en-US')} transactions (${result.train.frauds} frauds) of ${options.trainStart} + ${options.trainDays} days, ${result.features.length} features, in ${(result.train.ms / 1000).toFixed(1)} s (best round ${result.train.bestRound}).`,
  );
  out(
    `Test: ${result.test.rows.toLocaleString('en-US')} transactions (${result.test.frauds} frauds), ${options.delayDays} days later, ${options.testDays} days, known compromised customers removed.`,
  );
  out(renderReport(result.report, 'Handbook protocol, test week'));
  out(
    `Goals: AUC ≥ 0.89 (${result.report.rocAuc.toFixed(3)}), AP ≥ 0.70 (${result.report.averagePrecision.toFixed(3)}), CP@100 ≥ 0.30 (${result.report.cardPrecisionAt100?.toFixed(3)}).`,
  );
  if (values.json) {
    writeFileSync(
      values.json,
      JSON.stringify(
        {
          ...options,
          replay: result.replay,
          train: result.train,
          test: result.test,
          features: result.features,
          report: result.report,
        },
        null,
        2,
      ),
    );
    out(`Wrote ${values.json}.`);
  }
  if (values['save-model']) {
    writeFileSync(values['save-model'], JSON.stringify(result.model));
    out(`Wrote the model to ${values['save-model']} (warden model import it).`);
  }
  return 0;
}

/** `warden replay ecommerce`: the learned model on the e-commerce sign-ups and purchases. */
export async function replayEcommerceCommand(values: { data: string; json?: string }): Promise<number> {
  const progress = new Progress('Replaying sign-ups and purchases, then training', 1);
  const result = await replayEcommerce({ dataDir: values.data });
  progress.finish(`${result.train.trees} trees`);
  out(
    `Replayed ${result.replay.events.toLocaleString('en-US')} events (${result.rows.toLocaleString('en-US')} sign-ups and purchases) in ${(result.replay.ms / 1000).toFixed(1)} s. Trained on ${result.train.rows.toLocaleString('en-US')} rows (${result.train.frauds} frauds; ${result.train.validationRows.toLocaleString('en-US')} of them held out for early stopping), ${result.features.length} features, in ${(result.train.ms / 1000).toFixed(1)} s.`,
  );
  out(
    renderReport(
      result.report,
      `E-commerce, stratified 30% test split (${result.test.rows.toLocaleString('en-US')} rows, ${result.test.frauds} frauds)`,
    ),
  );
  out(
    `Goals: AUC ≥ 0.80 (${result.report.rocAuc.toFixed(3)}), AP ≥ 0.66 (${result.report.averagePrecision.toFixed(3)}); baseline LightGBM 0.786 / 0.647.`,
  );
  if (values.json) {
    const { model: _model, ...rest } = result;
    writeFileSync(values.json, JSON.stringify(rest, null, 2));
    out(`Wrote ${values.json}.`);
  }
  return 0;
}
