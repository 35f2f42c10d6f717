import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, publicConfig } from '../src/config.js';

describe('configuration', () => {
  it('has working defaults', () => {
    expect(loadConfig({})).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      dataDir: './.warden',
      referenceCurrency: 'EUR',
    });
  });

  it('reads the environment and converts numbers', () => {
    expect(loadConfig({ WARDEN_PORT: '9090', WARDEN_LOG_LEVEL: 'warn' })).toMatchObject({
      port: 9090,
      logLevel: 'warn',
    });
  });

  it.each([
    [{ WARDEN_PORT: 'eighty' }, /WARDEN_PORT/],
    [{ WARDEN_PORT: '70000' }, /WARDEN_PORT/],
    [{ WARDEN_LOG_LEVEL: 'loud' }, /WARDEN_LOG_LEVEL/],
    [{ WARDEN_REFERENCE_CURRENCY: 'ABC' }, /WARDEN_REFERENCE_CURRENCY/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ DATABASE_URL: 'postgres://x/y' }, /WARDEN_MASTER_KEY/],
    [{ WARDEN_MASTER_KEY: 'c2hvcnQ=' }, /32 random bytes/],
    [{ WARDEN_TLS_CERT_FILE: 'cert.pem' }, /WARDEN_TLS_KEY_FILE/],
    [{ WARDEN_CONFIG: '/nonexistent/warden.json' }, /WARDEN_CONFIG/],
  ])('stops with a message naming the bad key: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('counters and derived features in the config file', () => {
  it('loads the handbook example as a config file', () => {
    const file = new URL('../../../examples/handbook-counters.json', import.meta.url).pathname;
    const config = loadConfig({ WARDEN_CONFIG: file });
    // The 15 reference features, and 33 more the handbook model learns from.
    expect(config.counters?.length).toBe(8);
    expect(config.derivedFeatures?.length).toBe(48);
    const ecommerce = new URL('../../../examples/ecommerce-counters.json', import.meta.url).pathname;
    expect(loadConfig({ WARDEN_CONFIG: ecommerce }).counters?.length).toBeGreaterThan(0);
  });

  it('stops at start with the counter and what is wrong with it', () => {
    const bad = { name: 'x', key: 'user', aggregate: 'distinct' as const, windows: ['1h'] };
    expect(() => loadConfig({}, { counters: [bad] })).toThrow(ConfigError);
    expect(() => loadConfig({}, { counters: [bad] })).toThrow(/user\.x: A distinct counter needs `of`/);
    const clash = { name: 'attempts', key: 'card', aggregate: 'count' as const, windows: ['1h'] };
    expect(() => loadConfig({}, { counters: [clash] })).toThrow(/already provided/);
  });
});

describe('the configuration as shown and audited', () => {
  it('holds no master key and no database password', () => {
    const shown = publicConfig(
      loadConfig({
        DATABASE_URL: 'postgres://warden:s3cret@db.internal:5432/warden',
        WARDEN_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      }),
    );
    const text = JSON.stringify(shown);
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain(Buffer.alloc(32, 7).toString('base64'));
    expect(shown).toMatchObject({
      masterKey: 'set',
      databaseUrl: 'postgres://warden:***@db.internal:5432/warden',
    });
  });
});
