import { type Static, Type } from '@sinclair/typebox';

/**
 * The closed set of error codes Warden answers with. Each code has one HTTP status, so a client can
 * branch on the code alone. Adding a code is a public API change: document it in the README.
 */
export const ERROR_STATUS = {
  invalid_json: 400,
  unsupported_media_type: 415,
  body_too_large: 413,
  validation_failed: 422,
  missing_field: 422,
  invalid_field: 422,
  unknown_field: 422,
  unknown_event_type: 422,
  unknown_currency: 422,
  occurred_at_in_future: 422,
  card_number_not_allowed: 422,
  batch_too_large: 413,
  invalid_expression: 422,
  invalid_counter: 422,
  invalid_list_entry: 422,
  invalid_csv: 422,
  invalid_data_file: 422,
  invalid_model: 422,
  invalid_cursor: 400,
  unauthenticated: 401,
  forbidden: 403,
  origin_not_allowed: 403,
  not_found: 404,
  route_not_found: 404,
  conflict: 409,
  rate_limited: 429,
  request_timeout: 408,
  storage_unavailable: 503,
  shutting_down: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Machine-readable error code; see the README for the full list.' }),
      message: Type.String(),
      request_id: Type.String(),
      field: Type.Optional(Type.String({ description: 'JSON pointer to the offending field, when known.' })),
      position: Type.Optional(
        Type.Object({
          start: Type.Integer({ description: 'Offset of the error in the expression, from 0' }),
          end: Type.Integer(),
        }),
      ),
      line: Type.Optional(Type.Integer({ description: 'The line of an uploaded file, from 1' })),
    }),
  },
  { description: 'Every error Warden returns has this shape.' },
);
export type ErrorBody = Static<typeof ErrorBody>;
