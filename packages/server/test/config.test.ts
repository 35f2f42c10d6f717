import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

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
