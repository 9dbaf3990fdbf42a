// OpenAI-shaped errors ({"error": {message, type, param, code}}) for every non-2xx answer of the
// simulated servers, so OpenAI clients raise their typed errors (BadRequestError, NotFoundError, …).
import type http from 'node:http';

export interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A request that must be answered with `status` and an OpenAI error body (never a 500 for bad input). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }

  get type(): string {
    return errorType(this.status);
  }

  body(): OpenAiError {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** OpenAI's error types: client mistakes are `invalid_request_error`, our own failures `server_error`. */
function errorType(status: number): string {
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function badRequest(message: string, param: string | null = null, code = 'invalid_value'): HttpError {
  return new HttpError(400, message, code, param);
}

export function serverError(message = 'Internal server error'): HttpError {
  return new HttpError(500, message, 'internal_error');
}

export function sendError(
  res: http.ServerResponse,
  err: HttpError,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(err.body());
  res.writeHead(err.status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
