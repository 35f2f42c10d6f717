// The baseline for bench/api.ts: a Fastify 5 server with one POST route that parses the JSON body
// and answers {}. Same path as Warden's so the load generator's settings are identical.
// Run on its own with: node --import tsx bench/empty-server.ts   (PORT=0 picks a free port)
import Fastify from 'fastify';

const app = Fastify({ logger: false });

app.post('/v1/events', async (request) => {
  // Fastify has already parsed the body by now; touch it so the work cannot be skipped.
  if (request.body === undefined) throw new Error('no body');
  return {};
});

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`Empty Fastify is listening on http://127.0.0.1:${port}\n`);

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
