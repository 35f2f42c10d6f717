import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LISTS } from '../src/default-rules.js';
import { masterKey, postgresBackend } from './harness.js';

const BIN = resolve(import.meta.dirname, '../bin/warden.js');

function warden(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, WARDEN_LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function waitFor(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; saw: ${seen}`)),
      30_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolvePromise(seen);
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before ${pattern}; saw: ${seen}`)));
  });
}

describe('the warden command on embedded storage', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
    env = { WARDEN_DATA_DIR: join(dir, 'data') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates, lists and revokes API keys', () => {
    const created = warden(
      ['apikey', 'create', '--scopes', 'events:write,decisions:read', '--name', 'checkout'],
      env,
    );
    expect(created.code, created.err).toBe(0);
    const id = /Created (key_\w+)/.exec(created.out)?.[1];
    expect(id).toBeDefined();
    expect(created.out).toMatch(/^wdn_[\w-]{43}$/m);
    const listed = warden(['apikey', 'list'], env);
    expect(listed.out).toContain(`${id}`);
    expect(listed.out).toContain('checkout');
    expect(listed.out).not.toMatch(/wdn_[\w-]{43}/);
    expect(warden(['apikey', 'revoke', id ?? ''], env).code).toBe(0);
    expect(warden(['apikey', 'list'], env).out).toMatch(/revoked/);
    const bad = warden(['apikey', 'create', '--scopes', 'everything'], env);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/Scopes must be/);
  });

  it('imports an NDJSON file, reports bad lines by number, and skips what is stored on a re-run', () => {
    const file = join(dir, 'events.ndjson');
    const now = Date.now();
    const line = (i: number) =>
      JSON.stringify({
        id: `imp_${i}`,
        type: 'login.succeeded',
        occurred_at: new Date(now - 60_000 + i).toISOString(),
        user: { id: `u${i % 3}` },
      });
    writeFileSync(
      file,
      [line(1), line(2), '{not json', line(3), '{"id":"x","type":"nope"}', '', line(4)].join('\n'),
    );
    const first = warden(['events', 'import', file, '--batch-size', '2'], env);
    expect(first.code).toBe(1);
    expect(first.err).toMatch(/4 new, 0 already stored, 2 refused/);
    expect(first.out).toMatch(/line 3: invalid_json/);
    expect(first.out).toMatch(/line 5: unknown_event_type/);
    const second = warden(['events', 'import', file], env);
    expect(second.err).toMatch(/0 new, 4 already stored, 2 refused/);
  });

  it('verifies the audit log', () => {
    const result = warden(['audit', 'verify'], env);
    expect(result.code, result.err).toBe(0);
    // The default lists and rule pack of the first start, then two key events (create, revoke);
    // `serve` has not run yet, so no configuration is recorded.
    expect(result.out).toMatch(new RegExp(`Audit log intact: ${DEFAULT_LISTS.length + 1 + 2} rows`));
  });

  it('creates and lists console staff accounts', () => {
    const created = warden(
      ['staff', 'create', '--email', 'ana@example.com', '--name', 'Ana', '--role', 'admin'],
      env,
    );
    expect(created.code, created.err).toBe(0);
    expect(created.out).toMatch(/Created stf_\w+ \(admin\)/);
    expect(created.out).toMatch(/^[\w-]{20}$/m);
    const listed = warden(['staff', 'list'], env);
    expect(listed.out).toMatch(/admin\s+ana@example.com\s+Ana\s+\(authenticator not enrolled yet\)/);
    const usage = warden(['staff', 'create', '--email', 'x@example.com'], env);
    expect(usage.code).toBe(1);
    expect(usage.err).toMatch(/Usage: warden staff create/);
    const badRole = warden(
      ['staff', 'create', '--email', 'b@example.com', '--name', 'B', '--role', 'boss'],
      env,
    );
    expect(badRole.code).toBe(1);
    expect(badRole.err).toMatch(/role must be one of/);
  });

  it('serves, keeps a second process off the embedded store, and stops gracefully', async () => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...process.env, ...env, WARDEN_PORT: '0', WARDEN_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const banner = await waitFor(child, /API docs:.*\n.*storage:.*\n/);
      expect(banner).toMatch(/storage: {3}embedded/);
      expect(banner).not.toMatch(/Admin API key/);
      // The staff account made above: the console line says how to sign in, not to make one.
      expect(banner).toMatch(/console: {3}http:\/\/\S+\/ \(staff sign in/);
      const url = /listening on (\S+)/.exec(banner)?.[1] ?? '';
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const locked = warden(['apikey', 'list'], env);
      expect(locked.code).toBe(1);
      expect(locked.err).toMatch(/in use by another Warden process/);
      const exited = new Promise<number | null>((done) => child.on('exit', done));
      const audit = await fetch(`${url}/v1/audit-log`, { headers: { authorization: 'Bearer nope' } });
      expect(audit.status).toBe(401);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('says how to fix bad configuration', () => {
    const result = warden(['migrate'], { ...env, WARDEN_PORT: 'x' });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/WARDEN_PORT/);
    expect(warden(['frobnicate'], env).err).toMatch(/Unknown command/);
  });
});

describe('the warden command on PostgreSQL', () => {
  it('migrates without printing the database password, and refuses a wrong master key', async () => {
    const store = await postgresBackend.create();
    try {
      // Trust authentication ignores the password; the point is that it is never printed.
      const url = (store.config.databaseUrl ?? '').replace('postgres@', 'postgres:hunter2@');
      const env = { DATABASE_URL: url, WARDEN_MASTER_KEY: masterKey() };
      const migrated = warden(['migrate'], env);
      expect(migrated.code, migrated.err).toBe(0);
      expect(migrated.out).toMatch(/postgres storage/);
      expect(migrated.out).not.toContain('hunter2');
      const wrongKey = warden(['apikey', 'list'], { ...env, WARDEN_MASTER_KEY: masterKey() });
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.err).toMatch(/not the key this database was created with/);
    } finally {
      await store.drop();
    }
  });
});
