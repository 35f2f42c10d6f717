import { describe, expect, it } from 'vitest';
import { BACKENDS, eventId, paymentAttempted, useTestApp } from './harness.js';

describe.each(BACKENDS)('bad input on $name gets a precise 4xx and stores nothing', (backend) => {
  const t = useTestApp(backend, { bodyLimitBytes: 8 * 1024 });

  const storedEvents = async () =>
    Number(
      (
        await t.services.db
          .selectFrom('events')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  const send = (payload: string, contentType = 'application/json', url = '/v1/events') =>
    t.app.inject({ method: 'POST', url, headers: { ...t.auth(), 'content-type': contentType }, payload });

  const cases: [string, () => string, number, string, string?][] = [
    ['malformed JSON', () => '{"id": "x", ', 400, 'invalid_json'],
    ['an empty body', () => '', 400, 'invalid_json'],
    ['a JSON array', () => '[]', 422, 'invalid_field', '/'],
    [
      'an unknown event type',
      () => JSON.stringify({ ...paymentAttempted(), type: 'payment.stolen' }),
      422,
      'unknown_event_type',
      '/type',
    ],
    [
      'a missing occurred_at',
      () => JSON.stringify({ ...paymentAttempted(), occurred_at: undefined }),
      422,
      'missing_field',
      '/occurred_at',
    ],
    [
      'a payment without amount',
      () => JSON.stringify({ ...paymentAttempted(), amount: undefined, currency: undefined }),
      422,
      'missing_field',
      '/amount',
    ],
    [
      'amount without currency',
      () => JSON.stringify({ ...paymentAttempted(), currency: undefined }),
      422,
      'missing_field',
      '/currency',
    ],
    [
      'a wrong type',
      () => JSON.stringify({ ...paymentAttempted(), amount: '12.50' }),
      422,
      'invalid_field',
      '/amount',
    ],
    [
      'a fractional amount',
      () => JSON.stringify({ ...paymentAttempted(), amount: 12.5 }),
      422,
      'invalid_field',
      '/amount',
    ],
    [
      'an unknown field',
      () => JSON.stringify({ ...paymentAttempted(), colour: 'red' }),
      422,
      'unknown_field',
      '/colour',
    ],
    [
      'an unknown nested field',
      () => JSON.stringify({ ...paymentAttempted(), user: { id: 'u', mood: 'x' } }),
      422,
      'unknown_field',
      '/user/mood',
    ],
    [
      'an unknown currency',
      () => JSON.stringify({ ...paymentAttempted(), currency: 'XYZ' }),
      422,
      'unknown_currency',
      '/currency',
    ],
    [
      'a bad timestamp',
      () => JSON.stringify({ ...paymentAttempted(), occurred_at: '2026-02-30T10:00:00Z' }),
      422,
      'invalid_field',
      '/occurred_at',
    ],
    [
      'a timestamp far in the future',
      () =>
        JSON.stringify({
          ...paymentAttempted(),
          occurred_at: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      422,
      'occurred_at_in_future',
      '/occurred_at',
    ],
    [
      'a bad IP',
      () => JSON.stringify({ ...paymentAttempted(), session: { ip: '300.1.2.3' } }),
      422,
      'invalid_field',
      '/session/ip',
    ],
    [
      'a card number in a token field',
      () =>
        JSON.stringify({
          ...paymentAttempted(),
          payment_method: { type: 'card', token: '4242424242424242' },
        }),
      422,
      'card_number_not_allowed',
      '/payment_method/token',
    ],
    [
      'a card number in attributes',
      () => JSON.stringify({ ...paymentAttempted(), attributes: { note: 'card 5555 5555 5555 4444 ok' } }),
      422,
      'card_number_not_allowed',
      '/attributes/note',
    ],
    [
      'a card number as a JSON number',
      () => JSON.stringify({ ...paymentAttempted(), attributes: { pan: 4111111111111111 } }),
      422,
      'card_number_not_allowed',
      '/attributes/pan',
    ],
    [
      'a card number in an unknown field',
      () => JSON.stringify({ ...paymentAttempted(), card_number: '378282246310005' }),
      422,
      'card_number_not_allowed',
      '/card_number',
    ],
    [
      'a NUL character',
      () => JSON.stringify({ ...paymentAttempted(), attributes: { note: 'a\u0000b' } }),
      422,
      'invalid_field',
      '/attributes/note',
    ],
    [
      'an oversize body',
      () => JSON.stringify({ ...paymentAttempted(), attributes: { blob: 'x'.repeat(9000) } }),
      413,
      'body_too_large',
    ],
  ];

  it.each(cases)('%s', async (_name, body, status, code, field) => {
    const before = await storedEvents();
    const res = await send(body());
    expect(res.statusCode, res.body).toBe(status);
    const error = res.json().error;
    expect(error.code).toBe(code);
    expect(error.request_id).toBe(res.headers['x-request-id']);
    expect(error.message.length).toBeGreaterThan(5);
    if (field) expect(error.field).toBe(field);
    expect(await storedEvents()).toBe(before);
  });

  it('never echoes a refused card number back', async () => {
    const res = await send(JSON.stringify({ ...paymentAttempted(), attributes: { x: '4111111111111111' } }));
    expect(res.body).not.toContain('4111111111111111');
  });

  it('refuses a body that is not JSON', async () => {
    const res = await send('id=1', 'application/x-www-form-urlencoded');
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });

  it('refuses a batch over 1,000 events and stores none of it', async () => {
    const before = await storedEvents();
    const events = Array.from({ length: 1001 }, () => ({
      id: eventId(),
      type: 'login.failed',
      occurred_at: new Date().toISOString(),
      user: { id: 'u' },
    }));
    const res = await t.post('/v1/events/batch', { events });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('batch_too_large');
    expect(await storedEvents()).toBe(before);
  });

  it('refuses a batch that is not a list of events', async () => {
    for (const payload of [{ events: [] }, { events: 'x' }, { evnts: [] }]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/events/batch', headers: t.auth(), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
    }
  });

  it('answers unknown routes, ids and bad queries with codes', async () => {
    expect((await t.get('/v1/nothing')).json().error.code).toBe('route_not_found');
    expect((await t.get('/v1/decisions/dec_missing')).json().error.code).toBe('not_found');
    const badQuery = await t.get('/v1/events?limit=5000');
    expect(badQuery.statusCode).toBe(422);
    expect(badQuery.json().error).toMatchObject({ code: 'invalid_field', field: '/querystring/limit' });
    const badCursor = await t.get('/v1/events?cursor=abc');
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().error.code).toBe('invalid_cursor');
    const badType = await t.get('/v1/events?type=nope');
    expect(badType.statusCode).toBe(422);
  });
});
