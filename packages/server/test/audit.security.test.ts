import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LISTS } from '../src/default-rules.js';
import { BACKENDS, useTestApp } from './harness.js';

/** The first start records the default lists and the default rule pack (version 1). */
const PACK = DEFAULT_LISTS.length + 1;

describe.each(BACKENDS)('audit log on $name', (backend) => {
  const t = useTestApp(backend);
  beforeAll(async () => {
    const created = await t.post('/v1/api-keys', { name: 'audited', scopes: ['events:write'] });
    await t.app.inject({ method: 'DELETE', url: `/v1/api-keys/${created.json().key.id}`, headers: t.auth() });
    await t.keyWith('events:read');
  });

  it('records key creation and revocation, with who did it', async () => {
    const res = await t.get('/v1/audit-log');
    expect(res.statusCode).toBe(200);
    const actions = res
      .json()
      .data.map((r: { action: string; actor: string }) => `${r.action} by ${r.actor}`);
    expect(actions.slice(0, PACK)).toEqual([
      ...DEFAULT_LISTS.map(() => 'list.created by system'),
      'ruleset.published by system',
    ]);
    expect(actions.slice(PACK)).toEqual([
      'api_key.created by test',
      expect.stringMatching(/^api_key\.created by api_key:key_/),
      expect.stringMatching(/^api_key\.revoked by api_key:key_/),
      'api_key.created by test',
    ]);
    expect(await t.services.audit.verify()).toMatchObject({ ok: true, rows: PACK + 4 });
  });

  it('records a configuration when it differs from the last one recorded, without secrets', async () => {
    const config = { port: 8080, masterKey: 'set', databaseUrl: 'postgres://u:***@h/db' };
    expect(await t.services.audit.recordConfiguration('system:start', config)).toEqual([
      'databaseUrl',
      'masterKey',
      'port',
    ]);
    expect(await t.services.audit.recordConfiguration('system:start', config)).toEqual([]);
    expect(await t.services.audit.recordConfiguration('system:start', { ...config, port: 9090 })).toEqual([
      'port',
    ]);
    const rows = (await t.get('/v1/audit-log')).json().data;
    expect(rows.filter((r: { action: string }) => r.action === 'config.changed')).toHaveLength(2);
    expect(await t.services.audit.verify()).toMatchObject({ ok: true, rows: PACK + 6 });
    // Put the chain back as the next tests expect it.
    await sql`delete from audit_log where seq > ${PACK + 4}`.execute(t.services.db);
  });

  it('finds a row changed after it was written', async () => {
    await sql`update audit_log set actor = 'someone else' where seq = ${PACK + 2}`.execute(t.services.db);
    expect(await t.services.audit.verify()).toMatchObject({
      ok: false,
      rows: PACK + 1,
      problem: { seq: PACK + 2 },
    });
  });

  it('finds a row deleted from the middle, and a chain rebuilt without the key', async () => {
    await sql`delete from audit_log where seq = ${PACK + 3}`.execute(t.services.db);
    const result = await t.services.audit.verify();
    expect(result.ok).toBe(false);
    expect(result.problem?.seq).toBeLessThanOrEqual(PACK + 3);
  });
});
