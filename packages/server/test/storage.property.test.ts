import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACKENDS, eventId, useTestApp } from './harness.js';

// Any text but NUL (refused at validation): quotes, backslashes, tabs, newlines, emoji, \N.
const awkwardText = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom("'", '"', '\\', '\t', '\n', '\r', 'N', ',', '{', '}'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    ),
    minLength: 1,
    maxLength: 30,
  })
  .filter((s) => !s.includes('\u0000'));

describe.each(BACKENDS)('stored text on $name', (backend) => {
  const t = useTestApp(backend);

  it('comes back exactly as sent, whatever characters it holds', async () => {
    await fc.assert(
      fc.asyncProperty(awkwardText, awkwardText, async (local, domain) => {
        const email = `${local}@${domain}`;
        const userId = eventId('u');
        const res = await t.post('/v1/events', {
          id: eventId(),
          type: 'account.created',
          occurred_at: new Date(Date.now() - 1000).toISOString(),
          user: { id: userId, email },
        });
        if (res.statusCode !== 200) {
          // Only a card-number-looking run may be refused; nothing else about the text.
          expect(res.json().error.code).toBe('card_number_not_allowed');
          return;
        }
        const features = await t.snapshot(res.json().decision.decision_id);
        expect(features['email.domain']).toBe(email.trim().toLowerCase().split('@').pop());
        const profile = (await t.get(`/v1/users/${userId}`)).json();
        expect(profile.profile.email).toBe(email);
      }),
      { numRuns: 60 },
    );
  });
});
