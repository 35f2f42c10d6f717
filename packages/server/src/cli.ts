import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { STAFF_ROLES } from '@warden/contracts';
import {
  MODEL_HELP,
  modelCommand,
  REPLAY_MODEL_HELP,
  replayEcommerceCommand,
  replayHandbookModelCommand,
} from './cli/model-commands.js';
import { Progress } from './cli/progress.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { Keyring } from './crypto/keyring.js';
import { DATA_KIND_NAMES, isDataKind } from './enrichment/sources.js';
import { createLogger } from './logger.js';
import { createRates } from './rates.js';
import { connectRedis } from './redis.js';
import { HANDBOOK_TRANSACTIONS, replayHandbook } from './replay/handbook.js';
import { startServer } from './server.js';
import { createServices, type Services } from './services.js';
import { SCOPES } from './use-cases/api-keys.js';
import { importEventsFile } from './use-cases/import-events.js';
import { MemoryVelocityStore } from './velocity/memory-store.js';
import { RedisVelocityStore } from './velocity/redis-store.js';

const HELP = `warden — fraud and trust decisions for marketplaces and payment platforms

Usage: npx warden <command> [options]

  serve                               Run the API (embedded storage unless DATABASE_URL is set)
  migrate                             Apply database migrations and exit
  apikey create --scopes a,b [--name N]
                                      Create an API key; scopes: ${SCOPES.join(', ')}
  apikey list                         List API keys (never their secrets)
  apikey revoke <key id>              Revoke an API key
  staff create --email E --name N --role R
                                      Create a console account (roles: ${STAFF_ROLES.join(', ')}); its
                                      password is shown once, and the first sign-in enrolls an
                                      authenticator app
  staff list                          List console accounts
  events import <file.ndjson> [--batch-size 500]
                                      Import events, one JSON object a line, with a progress bar
  audit verify                        Check the audit log's hash chain for changed or missing rows
  replay handbook [--data DIR] [--check-reference] [--redis] [--limit N]
                                      Replay the handbook's 1.75M card transactions through the
                                      counters (memory, or Redis at REDIS_URL with --redis) and
                                      compare 15 features with the reference file
${REPLAY_MODEL_HELP}
  data import <kind> <file>           Import an enrichment data file (kinds: ${DATA_KIND_NAMES.join(', ')});
                                      running servers pick it up within the refresh interval
  data status                         Each enrichment data source: shipped or imported, age, staleness
${MODEL_HELP}
  help                                This text

Configuration comes from the environment (and WARDEN_CONFIG, a JSON file): see the README.`;

const out = (line = '') => process.stdout.write(`${line}\n`);

async function withServices<T>(config: Config, work: (services: Services) => Promise<T>): Promise<T> {
  const services = await createServices(config);
  try {
    return await work(services);
  } finally {
    await services.close();
  }
}

async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, logger, (lines) => {
    out();
    for (const line of lines) out(line);
    out();
  });
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, 'shutting down: draining requests and flushing writes');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function replayCommand(
  config: Config,
  values: { data?: string; 'check-reference'?: boolean; redis?: boolean; limit?: string },
): Promise<number> {
  const dataDir = resolve(values.data ?? '../shared/data');
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new ConfigError('--limit must be a whole number of transactions');
  if (values.redis && !config.redisUrl)
    throw new ConfigError('--redis needs REDIS_URL, e.g. redis://127.0.0.1:6379');
  const redis = values.redis && config.redisUrl ? await connectRedis(config.redisUrl) : null;
  const store = redis
    ? new RedisVelocityStore(
        redis,
        new Keyring(randomBytes(32)),
        `${config.redisKeyPrefix}replay:${randomBytes(4).toString('hex')}:`,
      )
    : new MemoryVelocityStore();
  const total = limit ?? HANDBOOK_TRANSACTIONS;
  const progress = new Progress(`Replaying the handbook (${store.kind})`, total);
  try {
    const result = await replayHandbook({
      dataDir,
      store,
      rates: createRates('EUR'),
      checkReference: Boolean(values['check-reference']),
      limit,
      onProgress: (done) => progress.update(done, `${done.toLocaleString('en-US')} transactions`),
    });
    progress.finish(
      `${result.transactions.toLocaleString('en-US')} transactions and ${result.labels.toLocaleString('en-US')} labels`,
    );
    out(
      `Replayed ${result.transactions.toLocaleString('en-US')} transactions and ${result.labels.toLocaleString('en-US')} fraud labels (7 days late) in ${(result.ms / 1000).toFixed(1)} s: ${result.perSecond.toLocaleString('en-US')} transactions/s on ${store.kind}; ${result.series.toLocaleString('en-US')} series held.`,
    );
    if (!result.check) return 0;
    const { rows, values: compared, matched, features } = result.check;
    out(
      `Reference check (2018-08-08, ${rows.toLocaleString('en-US')} transactions, 15 features): ${matched.toLocaleString('en-US')} of ${compared.toLocaleString('en-US')} values match (${((matched / Math.max(1, compared)) * 100).toFixed(2)} %), within the reference's six decimals.`,
    );
    for (const f of features) {
      const worst = f.worst
        ? ` (largest difference ${f.largestDifference.toExponential(1)} at transaction ${f.worst.transactionId}: ${f.worst.expected} vs ${f.worst.got})`
        : '';
      out(`  ${f.feature.padEnd(38)} ${f.matched}/${f.compared}${worst}`);
    }
    return rows > 0 && matched === compared ? 0 : 1;
  } finally {
    await store.clear();
    redis?.disconnect();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scopes: { type: 'string' },
      name: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
      'batch-size': { type: 'string' },
      data: { type: 'string' },
      'check-reference': { type: 'boolean' },
      redis: { type: 'boolean' },
      limit: { type: 'string' },
      train: { type: 'string' },
      delay: { type: 'string' },
      test: { type: 'string' },
      json: { type: 'string' },
      'save-model': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'labels-known-by': { type: 'string' },
      'event-types': { type: 'string' },
      note: { type: 'string' },
      'feature-names': { type: 'string' },
      shadow: { type: 'boolean' },
      kind: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub, arg, arg2] = positionals;
  if (!command || command === 'help' || values.help) {
    out(HELP);
    return 0;
  }
  const config = loadConfig(process.env);
  switch (`${command}${sub ? ` ${sub}` : ''}`) {
    case 'serve':
      await serve(config);
      return -1;
    case 'migrate':
      await withServices(config, async (s) =>
        out(`Migrations applied to ${s.storage.mode} storage (${s.storage.location}).`),
      );
      return 0;
    case 'apikey create': {
      const scopes = (values.scopes ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const { secret, key } = await withServices(config, (s) =>
        s.apiKeys.create({ name: values.name ?? `key for ${scopes.join(', ')}`, scopes, actor: 'cli' }),
      );
      out(`Created ${key.id} (${key.scopes.join(', ')}). The secret, shown once:`);
      out(secret);
      return 0;
    }
    case 'apikey list': {
      const keys = await withServices(config, (s) => s.apiKeys.list());
      if (keys.length === 0) out('No API keys.');
      for (const k of keys) {
        const state = k.revoked_at ? `revoked ${k.revoked_at}` : `last used ${k.last_used_at ?? 'never'}`;
        out(`${k.id}  ${k.prefix}…  ${k.scopes.join(',').padEnd(24)}  ${k.name}  (${state})`);
      }
      return 0;
    }
    case 'staff create': {
      if (!values.email || !values.name || !values.role)
        throw new ConfigError(
          `Usage: warden staff create --email E --name N --role ${STAFF_ROLES.join('|')}`,
        );
      const { email, name, role } = values;
      const { password, staff } = await withServices(config, (s) =>
        s.staff.create({ email, name, role, actor: 'cli' }),
      );
      out(`Created ${staff.id} (${staff.role}). The password, shown once:`);
      out(password);
      out(`Sign in at http://${config.host}:${config.port}/ and add the authenticator app it shows.`);
      return 0;
    }
    case 'staff list': {
      const staff = await withServices(config, (s) => s.staff.list());
      if (staff.length === 0) out('No staff accounts: make the first with warden staff create --role admin.');
      for (const m of staff) {
        const state = m.disabled_at
          ? `disabled ${m.disabled_at}`
          : m.locked_until
            ? `locked until ${m.locked_until}`
            : m.totp_enrolled
              ? 'active'
              : 'authenticator not enrolled yet';
        out(`${m.id}  ${m.role.padEnd(12)}  ${m.email}  ${m.name}  (${state})`);
      }
      return 0;
    }
    case `apikey revoke`: {
      if (!arg) throw new ConfigError('Usage: warden apikey revoke <key id> (see warden apikey list)');
      await withServices(config, (s) => s.apiKeys.revoke(arg, 'cli'));
      out(`Revoked ${arg}.`);
      return 0;
    }
    case 'events import': {
      if (!arg || !existsSync(arg))
        throw new ConfigError(`Usage: warden events import <file.ndjson> (no file '${arg ?? ''}')`);
      const batchSize = Number(values['batch-size'] ?? 500);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
        throw new ConfigError('--batch-size must be a whole number from 1 to 1000');
      }
      const report = await withServices(config, async (s) => {
        const progress = new Progress(`Importing ${arg}`, 1);
        const result = await importEventsFile(s.ingestor, arg, {
          batchSize,
          onProgress: (read, total, r) =>
            progress.update(
              total > 0 ? read / total : 1,
              `${r.created} new, ${r.duplicates} dup, ${r.failed} bad`,
            ),
        });
        progress.finish(
          `${result.created} new, ${result.duplicates} already stored, ${result.failed} refused`,
        );
        return result;
      });
      for (const f of report.failures) out(`  line ${f.line}: ${f.code}: ${f.message}`);
      if (report.failed > report.failures.length)
        out(`  … and ${report.failed - report.failures.length} more`);
      return report.failed > 0 ? 1 : 0;
    }
    case 'audit verify': {
      const result = await withServices(config, (s) => s.audit.verify());
      if (result.ok) {
        out(`Audit log intact: ${result.rows} rows. Head: ${result.head}`);
        out('Record the head somewhere else: a later verify against it also catches deleted newest rows.');
        return 0;
      }
      out(`Audit log BROKEN at row ${result.problem?.seq}: ${result.problem?.reason}.`);
      out(`The ${result.rows} rows before it are intact.`);
      return 2;
    }
    case 'data import': {
      if (!arg || !arg2)
        throw new ConfigError(
          `Usage: warden data import <kind> <file>; kinds: ${DATA_KIND_NAMES.join(', ')}`,
        );
      if (!isDataKind(arg))
        throw new ConfigError(`No data kind '${arg}'. Kinds: ${DATA_KIND_NAMES.join(', ')}`);
      if (!existsSync(arg2)) throw new ConfigError(`No file '${arg2}'`);
      const content = readFileSync(arg2);
      const status = await withServices(config, (s) => s.enrichment.import(arg, content, 'cli'));
      out(`Imported ${arg} (${status.records} records, version ${status.version}).`);
      if (status.warning) out(`Warning: ${status.warning}`);
      return 0;
    }
    case 'data status': {
      const rows = await withServices(config, async (s) => s.enrichment.status());
      for (const r of rows) {
        const age = r.age_days === null ? '' : `, ${r.age_days} days old`;
        const what =
          r.source === 'imported'
            ? `imported ${r.imported_at} by ${r.imported_by}, ${r.records} records, version ${r.version}`
            : r.source;
        out(`${r.kind.padEnd(24)} ${what}${age}${r.stale ? '  STALE' : ''}`);
        if (r.warning) out(`${''.padEnd(24)} ${r.warning}`);
      }
      return 0;
    }
    case 'replay ecommerce':
      return replayEcommerceCommand({ data: resolve(values.data ?? '../shared/data'), json: values.json });
    case 'replay handbook':
      if (values.train)
        return replayHandbookModelCommand({
          ...values,
          data: resolve(values.data ?? '../shared/data'),
          train: values.train,
        });
      return replayCommand(config, values);
    default:
      if (command === 'model') return withServices(config, (s) => modelCommand(s, sub, [arg, arg2], values));
      throw new ConfigError(`Unknown command '${positionals.join(' ')}'. Run: npx warden help`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error) => {
    if (error instanceof ConfigError || (error instanceof Error && error.name === 'WardenError')) {
      process.stderr.write(`warden: ${error.message}\n`);
    } else {
      process.stderr.write(
        `warden: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exitCode = 1;
  },
);
