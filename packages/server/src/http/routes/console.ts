import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { WardenError } from '../../errors.js';

/** The console's build, checked in (npm run build:console), so a plain `npm start` serves it. */
const DIST = join(dirname(fileURLToPath(import.meta.url)), '../../../../console/dist');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

interface File {
  body: Buffer;
  type: string;
  /** Compressed on the first request that accepts gzip: every app start (tests too) stays quick. */
  gzipped?: Buffer;
}

const load = (path: string, type: string): File => ({ body: readFileSync(path), type });

/**
 * The analysts' console: `/` is its page and `/assets/<name>` its files. All are read into memory
 * at start (under 2 MB, each gzipped once when first asked for): a request can only name a file in that map, so no
 * path reaches the disk, nothing is listed and `..` finds nothing. Asset names carry a content
 * hash, so browsers may keep them a year; the page itself is revalidated so a new build shows.
 * Public: the page holds no data, every /v1 call it makes is authenticated.
 */
export const consoleRoutes: FastifyPluginAsync = async (app) => {
  const page = existsSync(join(DIST, 'index.html'))
    ? load(join(DIST, 'index.html'), 'text/html; charset=utf-8')
    : null;
  const assets = new Map<string, File>();
  const assetsDir = join(DIST, 'assets');
  if (existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir)) {
      const type = TYPES[extname(name)];
      if (type) assets.set(name, load(join(assetsDir, name), type));
    }
  }

  const serve = (request: FastifyRequest, reply: FastifyReply, file: File, cacheControl: string) => {
    const gzip = request.headers['accept-encoding']?.includes('gzip') === true;
    if (gzip) {
      file.gzipped ??= gzipSync(file.body);
      reply.header('content-encoding', 'gzip');
    }
    return reply
      .header('content-type', file.type)
      .header('cache-control', cacheControl)
      .header('vary', 'accept-encoding')
      .send(gzip ? file.gzipped : file.body);
  };

  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    if (!page) throw new WardenError('route_not_found', 'The console is not built: npm run build:console');
    return serve(request, reply, page, 'no-cache');
  });
  app.get<{ Params: { name: string } }>(
    '/assets/:name',
    { schema: { hide: true } },
    async (request, reply) => {
      const file = assets.get(request.params.name);
      if (!file) throw new WardenError('route_not_found', 'No such console file');
      return serve(request, reply, file, 'public, max-age=31536000, immutable');
    },
  );
};
