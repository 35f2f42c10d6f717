import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Progress } from './cli/progress.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';
import { createServices, type Services } from './services.js';
import { SCOPES } from './use-cases/api-keys.js';
import { importEventsFile } from './use-cases/import-events.js';

const HELP = `warden — fraud and trust decisions for marketplaces and payment platforms

Usage: npx warden <command> [options]

  serve                               Run the API (embedded storage unless DATABASE_URL is set)
  migrate                             Apply database migrations and exit
  apikey create --scopes a,b [--name N]
                                      Create an API key; scopes: ${SCOPES.join(', ')}
  apikey list                         List API keys (never their secrets)
  apikey revoke <key id>              Revoke an API key
  events import <file.ndjson> [--batch-size 500]
                                      Import events, one JSON object a line, with a progress bar
  audit verify                        Check the audit log's hash chain for changed or missing rows
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

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scopes: { type: 'string' },
      name: { type: 'string' },
      'batch-size': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub, arg] = positionals;
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
    default:
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
