import { type Logger, pino } from 'pino';

/**
 * Paths that never reach a log line: credentials, and personal data should an object holding it
 * ever be logged by mistake.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'authorization',
  'secret',
  '*.secret',
  'masterKey',
  '*.masterKey',
  'password',
  '*.password',
  'email',
  '*.email',
  'phone',
  '*.phone',
  'ip',
  '*.ip',
  'iban',
  '*.iban',
  'body',
  '*.body',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'warden' },
    },
    destination as pino.DestinationStream | undefined,
  );
}
