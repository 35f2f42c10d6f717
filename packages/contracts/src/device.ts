import { type Static, Type } from '@sinclair/typebox';

const closed = { additionalProperties: false } as const;
const opt = Type.Optional;
const str = (maxLength: number, description?: string) =>
  Type.String({ maxLength, ...(description ? { description } : {}) });

/**
 * One fingerprint component as the SDK sends it: short values as they are, long ones (canvas,
 * WebGL, audio) as a hash the SDK computed, sets (fonts, plugins, languages) as lists so the
 * server can measure how much they overlap.
 */
export const DeviceComponentValue = Type.Union([
  Type.String({ maxLength: 256 }),
  Type.Number(),
  Type.Boolean(),
  Type.Null(),
  Type.Array(Type.String({ maxLength: 128 }), { maxItems: 200 }),
]);
export type DeviceComponentValue = Static<typeof DeviceComponentValue>;

export const BOT_KINDS = [
  'awesomium',
  'cef',
  'cefsharp',
  'coachjs',
  'electron',
  'fminer',
  'geb',
  'nightmarejs',
  'phantomas',
  'phantomjs',
  'rhino',
  'selenium',
  'sequentum',
  'slimerjs',
  'webdriverio',
  'webdriver',
  'headless_chrome',
  'unknown',
] as const;

export const GEOLOCATION_PERMISSIONS = ['granted', 'denied', 'prompt', 'unsupported'] as const;
export const PASSWORD_PATTERNS = [
  'generated',
  'dictionary',
  'keyboard',
  'sequence',
  'repeat',
  'date',
  'personal',
  'short',
  'mixed',
] as const;
export type PasswordPattern = (typeof PASSWORD_PATTERNS)[number];

const lit = <T extends string>(values: readonly T[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

/** A position as a device reports it (the Geolocation API's coordinates). */
export const GeoPosition = Type.Object(
  {
    latitude: Type.Number({ minimum: -90, maximum: 90 }),
    longitude: Type.Number({ minimum: -180, maximum: 180 }),
    accuracy_m: opt(Type.Number({ minimum: 0 })),
  },
  closed,
);

/** What the browser SDK sends to `POST /v1/device/collect`. Never a typed value, never a password. */
export const DeviceCollectRequest = Type.Object(
  {
    stored_id: opt(
      Type.String({
        pattern: '^dev_[A-Za-z0-9_-]{8,60}$',
        description: 'The device id this browser stored (first-party) from an earlier collect',
      }),
    ),
    components: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,47}$' }), DeviceComponentValue, {
      maxProperties: 80,
      description: 'Fingerprint components (FingerprintJS 5 and the SDK), by name',
    }),
    bot: opt(
      Type.Object(
        {
          detected: Type.Boolean(),
          kind: opt(lit(BOT_KINDS)),
        },
        { ...closed, description: 'What BotD found in the page' },
      ),
    ),
    environment: opt(
      Type.Object(
        {
          timezone: opt(str(64, 'IANA time zone from Intl')),
          timezone_offset_min: opt(Type.Integer({ minimum: -900, maximum: 900 })),
          languages: opt(Type.Array(str(35), { maxItems: 20 })),
          screen: opt(
            Type.Object(
              {
                width: Type.Integer({ minimum: 0, maximum: 100000 }),
                height: Type.Integer({ minimum: 0, maximum: 100000 }),
                color_depth: opt(Type.Integer({ minimum: 0, maximum: 64 })),
                pixel_ratio: opt(Type.Number({ minimum: 0, maximum: 20 })),
              },
              closed,
            ),
          ),
          platform: opt(str(64)),
          user_agent: opt(str(1024)),
          touch_points: opt(Type.Integer({ minimum: 0, maximum: 100 })),
          hardware_concurrency: opt(Type.Integer({ minimum: 0, maximum: 1024 })),
          device_memory: opt(Type.Number({ minimum: 0, maximum: 1024 })),
          webdriver: opt(Type.Boolean()),
          /** Signs that the Chrome DevTools protocol drives the page (automation). */
          cdp: opt(Type.Boolean()),
          incognito: opt(Type.Union([Type.Boolean(), Type.Null()])),
          webgl_renderer: opt(
            str(256, 'The unmasked WebGL renderer (a software renderer hints at a virtual machine)'),
          ),
          client_hints: opt(
            Type.Object(
              {
                brands: opt(Type.Array(str(64), { maxItems: 10 })),
                mobile: opt(Type.Boolean()),
                platform: opt(str(64)),
                platform_version: opt(str(32)),
                model: opt(str(64)),
              },
              closed,
            ),
          ),
        },
        closed,
      ),
    ),
    geolocation: opt(
      Type.Object(
        {
          permission: lit(GEOLOCATION_PERMISSIONS),
          position: opt(GeoPosition),
        },
        closed,
      ),
    ),
    behaviour: opt(
      Type.Object(
        {
          ms_to_submit: opt(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
          pastes_sensitive: opt(
            Type.Integer({
              minimum: 0,
              maximum: 10000,
              description: 'Pastes into password, card or code fields',
            }),
          ),
          keystrokes: opt(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
          key_interval_mean_ms: opt(Type.Number({ minimum: 0, maximum: 600000 })),
          key_interval_sd_ms: opt(Type.Number({ minimum: 0, maximum: 600000 })),
          pointer_moves: opt(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
        },
        { ...closed, description: 'How the form was filled in: timings and counts, never what was typed' },
      ),
    ),
    password: opt(
      Type.Object(
        {
          score: Type.Integer({ minimum: 0, maximum: 4, description: 'zxcvbn strength, 0 (weak) to 4' }),
          guesses_log10: Type.Number({ minimum: 0, maximum: 100 }),
          pattern: lit(PASSWORD_PATTERNS, 'The kind of password, computed in the page'),
        },
        { ...closed, description: 'The password pattern; the password itself never leaves the page' },
      ),
    ),
  },
  { ...closed, description: 'What the Warden browser SDK collected in one page' },
);
export type DeviceCollectRequest = Static<typeof DeviceCollectRequest>;

export const DeviceCollectResponse = Type.Object(
  {
    device_id: Type.String({ description: 'Warden device id; the SDK stores it first-party' }),
    token: Type.String({
      description: 'Signed device token (JWS): put it in events as session.device_token',
    }),
    expires_at: Type.String({ format: 'date-time' }),
  },
  closed,
);
export type DeviceCollectResponse = Static<typeof DeviceCollectResponse>;

export const CAPTCHA_PROVIDERS = ['altcha', 'recaptcha', 'turnstile', 'hcaptcha'] as const;
export type CaptchaProvider = (typeof CAPTCHA_PROVIDERS)[number];
