import { WardenError } from './errors.js';

/**
 * Cursors of lists paged by (time, id): opaque to callers, checked when they come back. A cursor
 * Warden did not give out is a 400 `invalid_cursor`, never a query.
 */
export function encodeKeysetCursor(at: Date, id: string): string {
  return Buffer.from(`${new Date(at).getTime()}:${id}`).toString('base64url');
}

export function decodeKeysetCursor(cursor: string, idPrefix: string): { at: Date; id: string } {
  const [ms, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const at = Number(ms);
  if (
    extra !== undefined ||
    !id ||
    !new RegExp(`^${idPrefix}_[0-9a-z]+$`).test(id) ||
    !Number.isSafeInteger(at)
  )
    throw new WardenError(
      'invalid_cursor',
      'This cursor was not given out by Warden: start again without one',
      '/cursor',
    );
  return { at: new Date(at), id };
}
