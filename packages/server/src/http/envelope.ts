import type { FastifyReply } from 'fastify';
import type { ErrorKind } from '../domain/errors.js';
import { TesseraError } from '../domain/errors.js';

export interface ApiErrorItem {
  code: string;
  message: string;
  long_message: string;
  meta?: { param_name?: string };
}

/** An error that already knows its HTTP status (edge failures: parsing, routing, limits). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly longMessage: string = message,
    readonly paramName?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const STATUS_OF_KIND: Record<Exclude<ErrorKind, 'invalid'>, number> = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

/** `invalid` maps to 400 on the M2M routes and 422 on the machine routes (spec 1.10). */
export function statusOf(error: TesseraError, validationStatus: number): number {
  return error.kind === 'invalid' ? validationStatus : STATUS_OF_KIND[error.kind];
}

export function errorItem(code: string, message: string, longMessage: string, paramName?: string): ApiErrorItem {
  const item: ApiErrorItem = { code, message, long_message: longMessage };
  if (paramName !== undefined) item.meta = { param_name: paramName };
  return item;
}

/**
 * Every response body is JSON sent as a Buffer with `Content-Type: application/json`
 * exactly: the published SDK parses only that value, and Fastify would append a charset
 * to a string payload.
 */
export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(Buffer.from(JSON.stringify(body)));
}

export function sendError(reply: FastifyReply, status: number, item: ApiErrorItem): FastifyReply {
  return sendJson(reply, status, { errors: [item], meta: {}, clerk_trace_id: String(reply.request.id) });
}
