import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pgliteBackend, useTestApp } from './harness.js';

/**
 * Guarantee: whatever is sent to the rules and lists endpoints, the answer is a success or a 4xx
 * with a code from the closed set, never a 500, and a refused request changes nothing.
 */
describe('rules and lists refuse bad input cleanly', () => {
  const t = useTestApp(pgliteBackend);
  const draftRules = async () => (await t.get('/v1/rules')).json().data.length;

  it('property: any expression is saved or refused with invalid_expression and a position inside it', async () => {
    const fragments = fc.constantFrom(
      'payment.amount',
      '>',
      '100',
      '&&',
      '||',
      '!',
      '(',
      ')',
      '"x"',
      'email.address',
      'in',
      'lists.blocked_emails',
      'lists.nope',
      'user.nope',
      '.',
      'size(',
      '1/0',
      'score',
      '==',
      'attributes.k',
      '[1,2]',
      ',',
      '?',
      ':',
    );
    const expression = fc.oneof(
      fc.array(fragments, { minLength: 1, maxLength: 12 }).map((parts) => parts.join(' ')),
      fc.string({ minLength: 1, maxLength: 80 }),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(expression, async (e) => {
        const before = await draftRules();
        const res = await t.post('/v1/rules', {
          name: `gen ${n++}`,
          expression: e,
          action: 'tag',
          tag: 'gen',
        });
        expect([201, 422]).toContain(res.statusCode);
        if (res.statusCode === 422) {
          const { error } = res.json();
          expect(['invalid_expression', 'invalid_field']).toContain(error.code);
          if (error.position) {
            expect(error.position.start).toBeGreaterThanOrEqual(0);
            expect(error.position.end).toBeLessThanOrEqual(e.length);
          }
          expect(await draftRules()).toBe(before);
        } else {
          await t.send('DELETE', `/v1/rules/${res.json().id}`);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('property: any list entry value is stored normalised or refused with invalid_list_entry', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'blocked_emails',
          'blocked_ips',
          'blocked_account_numbers',
          'disposable_email_domains',
        ),
        fc.string({ minLength: 1, maxLength: 60 }),
        async (list, value) => {
          const res = await t.post(`/v1/lists/${list}/entries`, { value });
          expect([201, 422]).toContain(res.statusCode);
          if (res.statusCode === 422)
            expect(['invalid_list_entry', 'invalid_field']).toContain(res.json().error.code);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses malformed rule bodies, unknown rules and bad thresholds with clear codes', async () => {
    expect(
      (await t.post('/v1/rules', { name: 'x', expression: 'true', action: 'explode' })).json().error.code,
    ).toBe('invalid_field');
    expect(
      (await t.post('/v1/rules', { name: 'x', expression: 'true', action: 'block', extra: 1 })).json().error
        .code,
    ).toBe('unknown_field');
    expect(
      (await t.post('/v1/rules', { name: 'x', expression: 'x'.repeat(5000), action: 'block' })).statusCode,
    ).toBe(422);
    expect((await t.send('PATCH', '/v1/rules/rule_nope', { name: 'y' })).statusCode).toBe(404);
    const thresholds = await t.send('PUT', '/v1/rulesets/draft/thresholds', {
      default: { review: 80, block: 70 },
      by_event_type: {},
    });
    expect(thresholds.json().error.code).toBe('invalid_field');
    const badType = await t.send('PUT', '/v1/rulesets/draft/thresholds', {
      default: { review: 65, block: 75 },
      by_event_type: { label: { review: 1, block: 2 } },
    });
    expect(badType.json().error.code).toBe('invalid_field');
    expect(
      (await t.post('/v1/backtests', { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' })).json()
        .error.code,
    ).toBe('invalid_field');
    const reserved = await t.post('/v1/lists', { name: 'in', kind: 'string', type: 'block' });
    expect(reserved.json().error).toMatchObject({ code: 'invalid_field', field: '/name' });
    const csv = await t.app.inject({
      method: 'POST',
      url: '/v1/lists/blocked_ips/import',
      headers: { ...t.auth(), 'content-type': 'text/csv' },
      payload: 'ip\n1.2.3.4\n',
    });
    expect(csv.json().error).toMatchObject({ code: 'invalid_csv', line: 1 });
  });
});
