import type { FastifyBaseLogger } from 'fastify';
import { type Config, publicConfig } from './config.js';
import { buildApp } from './http/app.js';
import { createServices, type Services } from './services.js';

export interface RunningServer {
  url: string;
  services: Services;
  stop(): Promise<void>;
}

/**
 * Starts Warden: storage, services, the HTTP app, then listens. Stop drains: /readyz turns 503,
 * in-flight requests finish, queued writes are flushed, then storage closes.
 */
/** One line on enrichment's data: what is imported, and what is stale (`warden data status`). */
function dataSummary(services: Services): string {
  const status = services.enrichment.status();
  const imported = status.filter((s) => s.source === 'imported').map((s) => s.kind);
  const stale = status
    .filter((s) => s.stale)
    .map((s) => `${s.source === 'shipped' ? 'the shipped country data' : s.kind} (${s.age_days} days old)`);
  return [
    `IP country from ${imported.includes('maxmind-country') || imported.includes('maxmind-city') ? 'MaxMind' : 'the shipped DB-IP Lite data'}`,
    imported.length ? `imported: ${imported.join(', ')}` : 'nothing imported (warden data import)',
    ...(stale.length ? [`stale: ${stale.join(', ')}`] : []),
  ].join('; ');
}

export async function startServer(
  config: Config,
  logger: FastifyBaseLogger,
  announce: (lines: string[]) => void,
): Promise<RunningServer> {
  const services = await createServices(config, {
    onStorageError: (error) =>
      logger.warn({ err: error }, 'a database connection failed; it will be replaced'),
  });
  try {
    const notes: string[] = [];
    if (services.masterKeyCreatedAt) {
      notes.push(
        `A new master key was written to ${services.masterKeyCreatedAt}.`,
        'Back it up now: without it the personal data Warden stores cannot be read.',
      );
    }
    // Only on the very first start: a restart must not hand out admin keys after they were revoked.
    if ((await services.apiKeys.countAll()) === 0) {
      const { secret, key } = await services.apiKeys.create({
        name: 'initial admin key',
        scopes: ['admin'],
        actor: 'system:first-start',
      });
      notes.push(
        `Admin API key (shown once, keep it safe): ${secret}`,
        `  (id ${key.id}; make narrower keys with POST /v1/api-keys or: npx warden apikey create --scopes events:write)`,
      );
    }
    // Configuration changes between starts go to the audit log, with the keys that changed.
    await services.audit.recordConfiguration('system:start', publicConfig(config));
    const { app, startDraining } = await buildApp(services, { logger });
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const scheme = config.tlsCertFile ? 'https' : 'http';
    const url = `${scheme}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    announce([
      `Warden is listening on ${url}`,
      `  console:   ${url}/ ${
        (await services.staff.list()).length === 0
          ? '(no staff account yet: npx warden staff create --email you@example.com --name "You" --role admin)'
          : '(staff sign in with password and authenticator code)'
      }`,
      `  API docs:  ${url}/docs`,
      `  storage:   ${services.storage.mode} (${services.storage.location})`,
      `  rules:     ruleset ${services.live.ruleset?.version ?? 'none'} live; ${services.loaded.entries.toLocaleString('en-US')} list entries loaded in ${services.loaded.ms} ms`,
      services.velocity.store.kind === 'memory'
        ? `  counters:  ${services.live.velocity.counters.length} counters in memory, rebuilt from ${services.rebuilt.events.toLocaleString('en-US')} events in ${services.rebuilt.ms} ms`
        : `  counters:  ${services.live.velocity.counters.length} counters on Redis, shared by every node`,
      `  data:      ${dataSummary(services)}`,
      `  model:     ${modelSummary(services)}`,
      ...(app.hasRoute({ method: 'GET', url: '/demo/checkout' })
        ? [
            `  demo shop: ${url}/demo/checkout (the browser SDK and the captcha at work; WARDEN_DEMO=false turns it off)`,
          ]
        : []),
      ...notes,
    ]);
    let stopping: Promise<void> | null = null;
    return {
      url,
      services,
      stop() {
        stopping ??= (async () => {
          startDraining();
          await app.close();
          await services.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await services.close();
    throw error;
  }
}

/** One line on the learned models in force, and what to do when there is none. */
function modelSummary(services: Services): string {
  const { activeModel, shadowModel, userModel } = services.live;
  if (!activeModel && !userModel)
    return 'none active: decisions carry no score (train one with npx warden model train, docs/models.md)';
  const parts = [activeModel ? `version ${activeModel.version} scores decisions` : 'no transaction model'];
  if (shadowModel) parts.push(`version ${shadowModel.version} in shadow`);
  if (userModel) parts.push(`version ${userModel.version} scores users`);
  return parts.join('; ');
}
