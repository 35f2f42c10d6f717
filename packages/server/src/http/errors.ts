import type { FastifyError, FastifyInstance } from 'fastify';
import { WardenError } from '../errors.js';

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function fromValidation(error: FastifyError): WardenError {
  const issue = (error.validation?.[0] ?? {}) as AjvIssue;
  const where = error.validationContext ?? 'request';
  const missing = issue.keyword === 'required' ? String(issue.params?.missingProperty ?? '') : '';
  const field = `/${where}${issue.instancePath ?? ''}${missing ? `/${missing}` : ''}`;
  if (missing) return new WardenError('missing_field', `${field} is required`, field);
  if (issue.keyword === 'additionalProperties') {
    const extra = String(issue.params?.additionalProperty ?? '');
    return new WardenError(
      'unknown_field',
      `${field}/${extra} is not a field Warden knows`,
      `${field}/${extra}`,
    );
  }
  return new WardenError('invalid_field', `${field} ${issue.message ?? 'is invalid'}`, field);
}

/** Maps Fastify's own errors onto Warden's closed set of codes. */
function classify(error: FastifyError): WardenError | null {
  if (error instanceof WardenError) return error;
  if (error.validation) return fromValidation(error);
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new WardenError('invalid_json', `The body is not valid JSON: ${error.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new WardenError('body_too_large', error.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new WardenError('unsupported_media_type', 'Send JSON with Content-Type: application/json');
    case 'FST_ERR_REQUEST_TIMEOUT':
      return new WardenError('request_timeout', 'The request took too long');
  }
  if (error instanceof SyntaxError)
    return new WardenError('invalid_json', `The body is not valid JSON: ${error.message}`);
  if (error.statusCode === 429) return new WardenError('rate_limited', error.message);
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new WardenError('validation_failed', error.message);
  }
  return null;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = classify(error);
    if (known) {
      return reply.status(known.status).send({
        error: {
          code: known.code,
          message: known.message,
          request_id: request.id,
          ...(known.field ? { field: known.field } : {}),
          ...known.details,
        },
      });
    }
    // Internals stay in the log; the client gets the request id to quote.
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({
      error: { code: 'internal_error', message: 'Something went wrong on our side', request_id: request.id },
    });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({
      error: {
        code: 'route_not_found',
        message: `No route ${request.method} ${request.url.split('?')[0]}. See /docs for the API.`,
        request_id: request.id,
      },
    });
  });
}
