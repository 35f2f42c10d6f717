import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { passwordPattern } from '../src/password-pattern.js';

/**
 * Guarantees protected here: the checked-in dist (which the server serves as it is, with no build
 * step) is exactly what the sources build to, so it can never go stale; and the script-tag bundle,
 * libraries included, stays within its 60 KB gzipped budget.
 */

const sdk = fileURLToPath(new URL('..', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'warden-sdk-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('the browser SDK bundle', () => {
  it('is byte-identical to a fresh build of the sources', () => {
    execFileSync(process.execPath, [join(sdk, 'build.mjs'), outDir], { stdio: 'pipe' });
    for (const file of ['warden.js', 'warden.mjs']) {
      const fresh = readFileSync(join(outDir, file));
      const checkedIn = readFileSync(join(sdk, 'dist', file));
      expect(
        fresh.equals(checkedIn),
        `packages/sdk-browser/dist/${file} differs from a fresh build: run \`npm run build:sdk\` and commit dist/`,
      ).toBe(true);
    }
  });

  it('fits in 60 KB gzipped, libraries included', () => {
    const gzipped = gzipSync(readFileSync(join(sdk, 'dist', 'warden.js'))).length;
    console.log(`dist/warden.js: ${(gzipped / 1024).toFixed(1)} KB gzipped (${gzipped} bytes; budget 61440)`);
    expect(gzipped).toBeLessThanOrEqual(60 * 1024);
  });

  it('exposes the global Warden, and loads FingerprintJS and BotD with their telemetry off', () => {
    const script = readFileSync(join(sdk, 'dist', 'warden.js'), 'utf8');
    const sandbox: { Warden?: { init?: unknown; passwordPattern?: unknown } } = {};
    // The IIFE assigns `var Warden`; run as a function body, that lands in the returned value.
    new Function('self', `${script}; self.Warden = Warden;`)(sandbox);
    expect(typeof sandbox.Warden?.init).toBe('function');
    expect(typeof sandbox.Warden?.passwordPattern).toBe('function');
    // Both libraries' telemetry code is compiled in, guarded by `monitoring`: both loads turn it off.
    expect(script.match(/monitoring:!1/g)).toHaveLength(2);
  });

  it('finds in its trimmed password list what the sources find', () => {
    const sandbox: { Warden?: { passwordPattern: typeof passwordPattern } } = {};
    new Function('self', `${readFileSync(join(sdk, 'dist', 'warden.js'), 'utf8')}; self.Warden = Warden;`)(
      sandbox,
    );
    for (const password of [
      'password123',
      'qwertyuiop',
      'sunshine1',
      'x7Kp2Qz9LmR4tWv8Ny3B',
      'Tr0ub4dor&3',
    ]) {
      expect(sandbox.Warden?.passwordPattern(password)).toEqual(passwordPattern(password));
    }
  });
});
