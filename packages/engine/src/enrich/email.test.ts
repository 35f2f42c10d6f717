import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyseEmail, type EmailSignals } from './email.js';

/**
 * Guarantees protected here: one person's many spellings of an address meet on one normalised
 * mailbox (and different people's do not), the list look-ups answer for the real lists, and no
 * input whatever makes analyseEmail throw or step outside its documented ranges.
 */

describe('analyseEmail syntax', () => {
  it.each([
    'john.smith@example.com',
    'a@b.co',
    "o'brien+tag@example.ie",
    'x_y-z!#$%&*/=?^`{|}~@sub.example.co.uk',
    'user@xn--e1afmkfd.xn--p1ai',
    '  Mixed.Case@Example.COM  ',
    `${'a'.repeat(64)}@example.com`,
  ])('accepts %s', (address) => {
    expect(analyseEmail(address).validSyntax).toBe(true);
  });

  it.each([
    ['no at sign', 'john.example.com'],
    ['two at signs', 'john@smith@example.com'],
    ['empty local part', '@example.com'],
    ['local part over 64', `${'a'.repeat(65)}@example.com`],
    ['leading dot', '.john@example.com'],
    ['trailing dot', 'john.@example.com'],
    ['doubled dot', 'john..smith@example.com'],
    ['quoted local part', '"john smith"@example.com'],
    ['space inside', 'john smith@example.com'],
    ['non-ASCII local part', 'josé@example.com'],
    ['non-ASCII domain', 'jose@correo.españa.es'],
    ['domain without a dot', 'john@localhost'],
    ['domain literal', 'john@[192.0.2.1]'],
    ['label starting with a hyphen', 'john@-example.com'],
    ['label ending with a hyphen', 'john@example-.com'],
    ['empty label', 'john@example..com'],
    ['trailing dot in domain', 'john@example.com.'],
    ['numeric TLD', 'john@example.123'],
    ['one-letter TLD', 'john@example.c'],
    ['label over 63', `john@${'a'.repeat(64)}.com`],
    ['total over 254', `john@${'a.'.repeat(125)}com`],
    ['empty string', ''],
  ])('refuses %s', (_why, address) => {
    const signals = analyseEmail(address, { first: 'John' });
    expect(signals).toEqual({
      validSyntax: false,
      normalised: null,
      domain: null,
      disposable: false,
      freeProvider: false,
      roleAccount: false,
      localRandomness: 0,
      localDigitShare: 0,
      nameInLocal: null,
      domainCountry: null,
    } satisfies EmailSignals);
  });
});

describe('analyseEmail normalised mailbox', () => {
  it.each([
    ['John.Smith@Gmail.com', 'johnsmith@gmail.com'],
    ['j.o.h.n.s.m.i.t.h@gmail.com', 'johnsmith@gmail.com'],
    ['johnsmith+shopping@gmail.com', 'johnsmith@gmail.com'],
    ['john.smith+a+b@googlemail.com', 'johnsmith@gmail.com'],
    ['JOHN.SMITH@GOOGLEMAIL.COM', 'johnsmith@gmail.com'],
    ['jane.doe+news@outlook.com', 'jane.doe@outlook.com'],
    ['jane+x@hotmail.co.uk', 'jane@hotmail.co.uk'],
    ['jane+x@live.com', 'jane@live.com'],
    ['jane+x@icloud.com', 'jane@icloud.com'],
    ['jane+x@me.com', 'jane@me.com'],
    ['jane+x@fastmail.com', 'jane@fastmail.com'],
    ['jane+x@protonmail.com', 'jane@protonmail.com'],
    ['jane+x@proton.me', 'jane@proton.me'],
    ['basename-shopping@yahoo.com', 'basename@yahoo.com'],
    ['jane+x@yahoo.com', 'jane+x@yahoo.com'],
    ['jane.doe+x@example.com', 'jane.doe+x@example.com'],
    ['Jane.Doe@Example.COM', 'jane.doe@example.com'],
  ])('%s → %s', (address, expected) => {
    expect(analyseEmail(address).normalised).toBe(expected);
  });

  it('keeps the dots of providers that do not ignore them', () => {
    expect(analyseEmail('jane.doe@outlook.com').normalised).not.toBe(
      analyseEmail('janedoe@outlook.com').normalised,
    );
  });

  it('keeps a local part that is only a tag rather than leave no mailbox', () => {
    expect(analyseEmail('+promo@gmail.com').normalised).toBe('+promo@gmail.com');
  });

  it('gives the domain in lower case as written, before any provider mapping', () => {
    expect(analyseEmail('x@GoogleMail.com').domain).toBe('googlemail.com');
  });
});

describe('analyseEmail lists', () => {
  it.each([
    'someone@mailinator.com',
    'someone@guerrillamail.com',
    'someone@10minutemail.com',
    'someone@yopmail.com',
  ])('%s is disposable and not a free provider', (address) => {
    const signals = analyseEmail(address);
    expect(signals.disposable).toBe(true);
    expect(signals.freeProvider).toBe(false);
  });

  it('finds a disposable parent domain under any subdomain', () => {
    expect(analyseEmail('someone@inbox.mailinator.com').disposable).toBe(true);
    expect(analyseEmail('someone@a.b.33mail.com').disposable).toBe(true);
  });

  it.each([
    'someone@gmail.com',
    'someone@yahoo.com',
    'someone@hotmail.com',
    'someone@outlook.com',
    'someone@aol.com',
    'someone@gmx.de',
    'someone@web.de',
    'someone@yandex.ru',
    'someone@hotmail.es',
  ])('%s is a free provider and not disposable', (address) => {
    const signals = analyseEmail(address);
    expect(signals.freeProvider).toBe(true);
    expect(signals.disposable).toBe(false);
  });

  it('reports a company domain as neither', () => {
    const signals = analyseEmail('jane@acme-widgets-gmbh.de');
    expect(signals.freeProvider).toBe(false);
    expect(signals.disposable).toBe(false);
  });
});

describe('analyseEmail role accounts', () => {
  it.each([
    'admin',
    'info',
    'support',
    'sales',
    'contact',
    'billing',
    'noreply',
    'no-reply',
    'no_reply',
    'do-not-reply',
    'postmaster',
    'webmaster',
    'hostmaster',
    'abuse',
    'office',
    'hello',
    'team',
    'help',
    'security',
    'marketing',
    'accounts',
    'hr',
    'jobs',
    'Info',
    'info+orders',
  ])('%s@… is a role account', (local) => {
    expect(analyseEmail(`${local}@example.com`).roleAccount).toBe(true);
  });

  it.each(['john.smith', 'information', 'helpdesk.jane', 'salesman', 'jo'])('%s@… is not', (local) => {
    expect(analyseEmail(`${local}@example.com`).roleAccount).toBe(false);
  });
});

describe('analyseEmail local part', () => {
  it.each(['john.smith', 'maria.garcia', 'john1985', 'christopher.schmidt', 'nguyen.thanh', 'lopezmartinez'])(
    '%s looks human (randomness ≤ 0.2)',
    (local) => {
      expect(analyseEmail(`${local}@example.com`).localRandomness).toBeLessThanOrEqual(0.2);
    },
  );

  it.each(['xk7qz9w2p', 'jgr8x2mq0v', 'a8f3k2l9', 'bxqwlrmz', 'hzqvnmwkd'])(
    '%s looks random (randomness ≥ 0.8)',
    (local) => {
      expect(analyseEmail(`${local}@example.com`).localRandomness).toBeGreaterThanOrEqual(0.8);
    },
  );

  it('scores random base-36 local parts well above names on average', () => {
    const rng = fc.sample(
      fc.string({
        unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
        minLength: 10,
        maxLength: 16,
      }),
      {
        numRuns: 300,
        seed: 42,
      },
    );
    const mean =
      rng.reduce((sum, local) => sum + analyseEmail(`${local}@example.com`).localRandomness, 0) / rng.length;
    expect(mean).toBeGreaterThan(0.6);
  });

  it('ignores the +tag for randomness and digit share', () => {
    expect(analyseEmail('john.smith+x7k2q9@example.com').localRandomness).toBe(0);
    expect(analyseEmail('john+123456@example.com').localDigitShare).toBe(0);
  });

  it.each([
    ['john', 0],
    ['john1985', 0.5],
    ['12345678', 1],
    ['a1', 0.5],
  ])('digit share of %s is %s', (local, share) => {
    expect(analyseEmail(`${local}@example.com`).localDigitShare).toBe(share);
  });
});

describe('analyseEmail nameInLocal', () => {
  it('is null without a name', () => {
    expect(analyseEmail('jose.garcia@example.com').nameInLocal).toBeNull();
    expect(analyseEmail('jose.garcia@example.com', {}).nameInLocal).toBeNull();
  });

  it('is null when no name word has three letters', () => {
    expect(analyseEmail('li.wu@example.com', { first: 'Li', last: 'Wu' }).nameInLocal).toBeNull();
  });

  it('finds the first or the last name, folding accents and case', () => {
    expect(analyseEmail('jose.g@example.com', { first: 'José', last: 'García' }).nameInLocal).toBe(true);
    expect(analyseEmail('mgarcia84@example.com', { first: 'María', last: 'García' }).nameInLocal).toBe(true);
    expect(analyseEmail('JOSE@example.com', { first: 'josé' }).nameInLocal).toBe(true);
    expect(analyseEmail('muller.k@example.com', { last: 'Müller' }).nameInLocal).toBe(true);
    expect(analyseEmail('strasse@example.com', { last: 'Straße' }).nameInLocal).toBe(true);
    expect(analyseEmail('obrien@example.com', { last: "O'Brien" }).nameInLocal).toBe(true);
    expect(analyseEmail('lopez@example.com', { last: 'García López' }).nameInLocal).toBe(true);
    expect(analyseEmail('lukasiewicz@example.com', { last: 'Łukasiewicz' }).nameInLocal).toBe(true);
    expect(analyseEmail('stefan.p@example.com', { first: 'Ștefan' }).nameInLocal).toBe(true);
    expect(analyseEmail('oster@example.com', { last: 'Øster' }).nameInLocal).toBe(true);
    // The same name sent in decomposed form (e + combining acute).
    expect(analyseEmail('jose@example.com', { first: 'Jose\u0301' }).nameInLocal).toBe(true);
  });

  it('is false when neither name appears', () => {
    expect(analyseEmail('xk7qz9w2p@example.com', { first: 'José', last: 'García' }).nameInLocal).toBe(false);
  });

  it('does not count a surname particle as a name', () => {
    expect(analyseEmail('vanessa@example.com', { last: 'van Dijk' }).nameInLocal).toBe(false);
  });

  it('does not look in the +tag', () => {
    expect(analyseEmail('xq@example.com', { first: 'Jose' }).nameInLocal).toBe(false);
    expect(analyseEmail('xq+jose@example.com', { first: 'Jose' }).nameInLocal).toBe(false);
  });
});

describe('analyseEmail domainCountry', () => {
  it.each([
    ['example.es', 'ES'],
    ['example.co.uk', 'GB'],
    ['example.uk', 'GB'],
    ['example.de', 'DE'],
    ['example.com.br', 'BR'],
    ['example.gob.es', 'ES'],
    ['empresa.com.co', 'CO'],
    ['example.com', null],
    ['example.net', null],
    ['example.org', null],
    ['example.io', null],
    ['example.co', null],
    ['example.me', null],
    ['example.tv', null],
    ['example.ai', null],
    ['example.app', null],
    ['example.tk', null],
    ['example.eu', null],
    ['example.su', null],
  ])('%s → %s', (domain, country) => {
    expect(analyseEmail(`jane@${domain}`).domainCountry).toBe(country);
  });
});

const ISO_ALPHA2 = /^[A-Z]{2}$/;

function expectInRange(signals: EmailSignals): void {
  expect(signals.localRandomness).toBeGreaterThanOrEqual(0);
  expect(signals.localRandomness).toBeLessThanOrEqual(1);
  expect(signals.localDigitShare).toBeGreaterThanOrEqual(0);
  expect(signals.localDigitShare).toBeLessThanOrEqual(1);
  if (signals.domainCountry !== null) expect(signals.domainCountry).toMatch(ISO_ALPHA2);
  if (!signals.validSyntax) {
    expect(signals.normalised).toBeNull();
    expect(signals.domain).toBeNull();
    expect(signals.disposable || signals.freeProvider || signals.roleAccount).toBe(false);
  } else {
    expect(signals.normalised).toBe(signals.normalised?.toLowerCase());
    expect(signals.domain).toBe(signals.domain?.toLowerCase());
    expect(signals.disposable && signals.freeProvider).toBe(false);
  }
}

describe('analyseEmail properties', () => {
  const name = fc.option(
    fc.record({ first: fc.string({ unit: 'binary' }), last: fc.string({ unit: 'binary' }) }),
    {
      nil: undefined,
    },
  );

  it('never throws and stays in range on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), name, (raw, n) => {
        expectInRange(analyseEmail(raw, n));
      }),
    );
    fc.assert(
      fc.property(fc.string(), (raw) => {
        expectInRange(analyseEmail(raw));
      }),
    );
  });

  it('never throws and stays in range on strings built around an @', () => {
    const part = fc.string({ unit: fc.constantFrom(...'aZ09.-_+@!é \u0000'), maxLength: 80 });
    fc.assert(
      fc.property(part, part, name, (local, domain, n) => {
        expectInRange(analyseEmail(`${local}@${domain}`, n));
      }),
    );
  });

  it('accepts RFC addresses as fast-check generates them, in range, whatever their case', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (address) => {
        const signals = analyseEmail(address);
        expect(signals.validSyntax).toBe(true);
        expectInRange(signals);
        expect(analyseEmail(address.toUpperCase())).toEqual(signals);
      }),
    );
  });

  it('maps a normalised mailbox onto itself', () => {
    const gmailish = fc.tuple(
      fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){0,3}(\+[a-z0-9-]{0,8})?$/),
      fc.constantFrom('gmail.com', 'googlemail.com', 'outlook.com', 'yahoo.com', 'icloud.com', 'example.com'),
    );
    fc.assert(
      fc.property(gmailish, ([local, domain]) => {
        const normalised = analyseEmail(`${local}@${domain}`).normalised;
        expect(normalised).not.toBeNull();
        expect(analyseEmail(normalised ?? '').normalised).toBe(normalised);
      }),
    );
  });
});
