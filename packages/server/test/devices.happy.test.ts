import { describe, expect, it } from 'vitest';
import { DeviceTokens } from '../src/device/device-token.js';
import {
  BACKENDS,
  collectRequest,
  collectToken,
  eventId,
  machine,
  paymentAttempted,
  sdkComponents,
  useTestApp,
} from './harness.js';

/**
 * Guarantees: a collect recognises a device by its stored id and, when storage was cleared, by its
 * fingerprint, and tells different browsers apart; the token it returns turns into device
 * attributes on the event that carries it (and names the device for counters); a token is good
 * for one event, and a forged, expired or malformed one is a signal on the decision, not an error.
 */
describe.each(BACKENDS)('device tokens on $name', (backend) => {
  const t = useTestApp(backend);

  const features = async (decisionId: string) => {
    const response = await t.get(`/v1/decisions/${decisionId}/features`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().features as Record<string, unknown>;
  };
  const send = async (event: Record<string, unknown>) => {
    const response = await t.post('/v1/events', event);
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };
  const withToken = (token: string, user = 'u_dev', extra: Record<string, unknown> = {}) =>
    paymentAttempted({ user: { id: user }, session: { ip: '203.0.113.7', device_token: token, ...extra } });

  it('keeps a device by its stored id and finds it again by fingerprint when storage is cleared', async () => {
    const tz = 'America/Bogota';
    const body = collectRequest({ components: sdkComponents({ timezone: tz, ...machine(10) }) });
    const first = await collectToken(t, body);
    expect(first.device_id).toMatch(/^dev_/);
    expect(Date.parse(first.expires_at)).toBeGreaterThan(Date.now());
    const again = await collectToken(t, { ...body, stored_id: first.device_id });
    expect(again.device_id).toBe(first.device_id);
    // Storage cleared: no stored id, and the browser updated (a new user agent) since.
    const cleared = await collectToken(
      t,
      collectRequest({
        components: sdkComponents({
          timezone: tz,
          ...machine(10),
          userAgent:
            'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36',
        }),
      }),
    );
    expect(cleared.device_id).toBe(first.device_id);
    // Another time zone on the same machine is another profile: another device.
    const other = await collectToken(
      t,
      collectRequest({ components: sdkComponents({ timezone: 'Asia/Tokyo', ...machine(10) }) }),
    );
    expect(other.device_id).not.toBe(first.device_id);
  });

  it('weighs the network: a near look-alike elsewhere is another device, on the home network the same one', async () => {
    const key = await t.keyWith('device:collect');
    const from = async (remoteAddress: string, components: Record<string, unknown>) => {
      const response = await t.app.inject({
        method: 'POST',
        url: `/v1/device/collect?key=${key}`,
        payload: collectRequest({ components }),
        remoteAddress,
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json().device_id as string;
    };
    const own = sdkComponents(machine(60));
    // A font more, everything else alike: close, but not the same beyond doubt.
    const withFont = (font: string) =>
      sdkComponents({ ...machine(60), fonts: [...(machine(60).fonts as string[]), font] });
    const alike = withFont('Font Extra');
    const home = await from('198.51.100.10', own);
    // Storage cleared, back on the same /24: the same device, exact or drifted.
    expect(await from('198.51.100.77', own)).toBe(home);
    expect(await from('198.51.100.78', alike)).toBe(home);
    // The look-alike on a network the device was never seen on is a device of its own.
    const stranger = await from('192.0.2.10', withFont('Font Other'));
    expect(stranger).not.toBe(home);
    // An exact match, the only candidate, is still recognised off its networks (a distinctive
    // device on a new connection).
    const homeComponents = sdkComponents(machine(61));
    const laptop = await from('198.51.100.20', homeComponents);
    expect(await from('203.0.113.200', homeComponents)).toBe(laptop);
  });

  it('turns a valid token into device attributes and keys the device counters by it', async () => {
    const collected = await collectToken(
      t,
      collectRequest({
        components: sdkComponents({ ...machine(20) }),
        geolocation: { permission: 'denied' },
        password: { score: 1, guesses_log10: 5.2, pattern: 'dictionary' },
        behaviour: { ms_to_submit: 1200, pastes_sensitive: 2, keystrokes: 10, key_interval_mean_ms: 35 },
      }),
      {
        'user-agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      },
    );
    const answer = await send(withToken(collected.token, 'u_dev_1'));
    const f = await features(answer.decision.decision_id);
    expect(f['device.token_status']).toBe('valid');
    expect(f['device.id']).toBe(collected.device_id);
    expect(f['device.is_new']).toBe(true);
    expect(f['device.geolocation_refused']).toBe(true);
    expect(f['device.password_pattern']).toBe('dictionary');
    expect(f['device.password_strength']).toBe(1);
    expect(f['device.pastes_sensitive']).toBe(2);
    expect(f['device.ms_to_submit']).toBe(1200);
    expect(f['device.is_bot']).toBe(false);
    expect(f['device.browser']).toBe('Chrome');
    expect(f['device.os']).toBe('Linux');
    // The event is stored under Warden's device id, so the device's counters see the next user.
    const second = await collectToken(t, collectRequest({ components: sdkComponents({ ...machine(20) }) }));
    expect(second.device_id).toBe(collected.device_id);
    const next = await send(withToken(second.token, 'u_dev_2'));
    const g = await features(next.decision.decision_id);
    expect(g['device.id']).toBe(collected.device_id);
    expect(g['device.is_new']).toBe(false);
    expect(g['velocity.device.distinct_users_24h']).toBe(1);
    const stored = await t.get(`/v1/events?user_id=u_dev_2`);
    expect(stored.json().data[0].event.session.device_id).toBe(collected.device_id);
  });

  it('a token is good for one event: a retry of that event is fine, another event is a replay', async () => {
    const { token } = await collectToken(t);
    const event = withToken(token, 'u_once');
    const first = await send(event);
    expect((await features(first.decision.decision_id))['device.token_status']).toBe('valid');
    const retry = await send(event);
    expect(retry.status).toBe('duplicate');
    expect(retry.decision.decision_id).toBe(first.decision.decision_id);
    const replay = await send(withToken(token, 'u_thief'));
    const f = await features(replay.decision.decision_id);
    expect(f['device.token_status']).toBe('replayed');
    // A replayed token lends nothing of its device.
    expect(f['device.id']).toBeUndefined();
    expect(replay.decision.action).toBe('challenge');
    expect(replay.decision.challenge).toBe('captcha');
  });

  it('a forged, expired or malformed token is a signal, not an error', async () => {
    const { token } = await collectToken(t);
    const [header, payload, signature] = token.split('.');
    // The claims changed (another device id) with the old signature.
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
    claims.sub = 'dev_someoneelse00';
    claims.dev.deviceId = 'dev_someoneelse00';
    const altered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const forged = await send(withToken(altered, 'u_forge'));
    expect((await features(forged.decision.decision_id))['device.token_status']).toBe('forged');
    expect(forged.decision.action).toBe('block');
    // Signed with a key that is not this installation's.
    const foreign = await new DeviceTokens(new Uint8Array(32).fill(7), 60_000).sign(
      JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()).dev,
      'dtk_foreign',
      Date.now(),
    );
    const foreignAnswer = await send(withToken(foreign.token, 'u_forge'));
    expect((await features(foreignAnswer.decision.decision_id))['device.token_status']).toBe('forged');
    // Signed with this installation's key, but long ago.
    const old = await new DeviceTokens(t.services.keyring.deriveSecret('device token'), 60_000).sign(
      JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()).dev,
      'dtk_old',
      Date.now() - 3_600_000,
    );
    const expired = await send(withToken(old.token, 'u_late'));
    expect((await features(expired.decision.decision_id))['device.token_status']).toBe('expired');
    const garbage = await send(withToken('not-a-token', 'u_late'));
    expect((await features(garbage.decision.decision_id))['device.token_status']).toBe('malformed');
  });

  it('flags automation, headless browsers and tampering from the page and the request headers', async () => {
    const { token } = await collectToken(
      t,
      collectRequest({
        components: sdkComponents({ ...machine(30) }),
        bot: { detected: true, kind: 'headless_chrome' },
        environment: {
          timezone: 'Europe/Madrid',
          timezone_offset_min: 300,
          languages: ['es-ES'],
          platform: 'Win32',
          user_agent:
            'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
          webdriver: true,
          webgl_renderer: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)',
        },
      }),
      {
        'user-agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
        'accept-language': 'en-US,en;q=0.9',
      },
    );
    const answer = await send(withToken(token, 'u_script'));
    const f = await features(answer.decision.decision_id);
    expect(f['device.is_bot']).toBe(true);
    expect(f['device.bot_kind']).toBe('headless_chrome');
    expect(f['device.headless']).toBe(true);
    expect(f['device.automation']).toBe(true);
    expect(f['device.emulator']).toBe(true);
    expect(f['device.tampered']).toBe(true);
    expect(answer.decision.action, JSON.stringify(answer.decision.reasons)).toBe('challenge');
    expect(answer.decision.challenge).toBe('captcha');
  });

  it("compares the browser's time zone and language with the IP's country", async () => {
    const { token } = await collectToken(
      t,
      collectRequest({
        components: sdkComponents({ ...machine(40) }),
        environment: { timezone: 'Asia/Tokyo', languages: ['ja-JP'] },
      }),
    );
    // 81.2.69.142 is in Great Britain in the shipped DB-IP data.
    const answer = await send(withToken(token, 'u_far', { ip: '81.2.69.142' }));
    const f = await features(answer.decision.decision_id);
    expect(f['device.timezone_mismatch']).toBe(true);
    expect(f['device.language_mismatch']).toBe(true);
    expect(f['device.ip_changed']).toBe(true);
    const local = await collectToken(
      t,
      collectRequest({
        components: sdkComponents({ ...machine(50) }),
        environment: { timezone: 'Europe/London', languages: ['en-GB'] },
      }),
    );
    const near = await send(withToken(local.token, 'u_near', { ip: '81.2.69.142' }));
    const g = await features(near.decision.decision_id);
    expect(g['device.timezone_mismatch']).toBe(false);
    expect(g['device.language_mismatch']).toBe(false);
  });

  it('an event without a token says so', async () => {
    const answer = await send(paymentAttempted({ id: eventId('plain'), user: { id: 'u_plain' } }));
    expect((await features(answer.decision.decision_id))['device.token_status']).toBe('absent');
  });
});
