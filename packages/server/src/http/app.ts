import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { TesseraError } from '../domain/errors.js';
import { StoreUnavailableError } from '../store/store.js';
import { errorItem, HttpError, sendError, statusOf } from './envelope.js';
import { registerMachineRoutes } from './routes/machines.js';
import { registerTokenRoutes } from './routes/m2m-tokens.js';
import { RouteTable, type RouteConfig, type RouteDeps } from './routes/route.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerJwtRoutes } from './routes/jwt-keys.js';
import { validationItem, validatorCompiler } from './validation.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;

// Trace IDs need to be unique, not secret: a random per-process prefix and a counter
// (randomBytes per request showed up in the verify profile).
const TRACE_PREFIX = randomBytes(6).toString('hex');
let traceCounter = 0;
const nextTraceId = () => `${TRACE_PREFIX}${(traceCounter++).toString(16).padStart(8, '0')}`;

export interface AppOptions {
  deps: RouteDeps;
  logLevel: string;
  isReady: () => boolean;
  /** A cheap database round trip for /healthz; throws StoreUnavailableError when unreachable. */
  ping?: (() => Promise<void>) | undefined;
}

/** The Backend API as a Fastify instance: routes, JSON parsing, the error envelope, access log. */
export function buildApp({ deps, logLevel, isReady, ping }: AppOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    // Over-long IDs must reach our handlers (a clean 404), not the router's own 414.
    routerOptions: { maxParamLength: 2048 },
    genReqId: nextTraceId,
    // Fastify's own request lines would log URLs; ours (onResponse below) logs the route pattern only.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    logger: {
      level: logLevel,
      redact: { paths: ['req.headers.authorization', '*.token', '*.secret', '*.secret_key'], censor: '[redacted]' },
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  // No per-request child logger (pino's child() cost ~1.2 µs on every request): the few
  // lines we log per request name their trace ID themselves.
  app.setChildLoggerFactory((logger) => logger);

  // JSON is the only body we read; anything else is a 415 before any handler runs.
  app.removeAllContentTypeParsers();
  // An empty body with a JSON content type (the published SDK sends one on DELETE) is no body.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
    const body = raw as string;
    if (body.trim() === '') return done(null, undefined);
    parseJson(request, body, (error, parsed) => {
      if (error) return done(new HttpError(400, 'request_body_invalid', 'is invalid', 'The request body is not valid JSON.'));
      done(null, parsed);
    });
  });

  // Routes whose fields are all optional accept a missing body as `{}`.
  // (Callback style: an async hook on every request cost ~5 µs of the verify path.)
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.body === undefined && (request.method === 'POST' || request.method === 'PATCH')) request.body = {};
    done();
  });

  // The access line; not even registered when the level would drop it (it runs on every request).
  if (['trace', 'debug', 'info'].includes(logLevel)) app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        reqId: request.id,
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
  });

  const routes = new RouteTable(app, deps.auth);
  registerSystemRoutes(routes, deps, isReady, ping);
  registerMachineRoutes(routes, deps);
  registerTokenRoutes(routes, deps, '');
  registerTokenRoutes(routes, deps, '/v1');
  registerJwtRoutes(routes, deps);

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = routes.methodsAt(path);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(
        reply,
        405,
        errorItem('method_not_allowed', 'Method not allowed', `${request.method} is not supported here; use ${allowed.join(', ')}.`),
      );
    }
    return sendError(reply, 404, errorItem('resource_not_found', 'not found', 'There is no endpoint at this path.'));
  });

  app.setErrorHandler((error: FastifyError | TesseraError | HttpError, request, reply) => handleError(error, request, reply));
  return app;
}

function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const validationStatus = (request.routeOptions.config as Partial<RouteConfig> | undefined)?.validationStatus ?? 400;
  if (error instanceof TesseraError) {
    return sendError(reply, statusOf(error, validationStatus), errorItem(error.code, error.message, error.longMessage, error.paramName));
  }
  if (error instanceof HttpError) {
    return sendError(reply, error.status, errorItem(error.code, error.message, error.longMessage, error.paramName));
  }
  if (error instanceof StoreUnavailableError) {
    // An outage, not a fault: fail fast, let the client retry; the pool reconnects by itself.
    request.log.warn({ reqId: request.id, reason: error.reason }, 'database unavailable');
    reply.header('retry-after', '1');
    return sendError(
      reply,
      503,
      errorItem('database_unavailable', 'Service unavailable', 'The database is unavailable; retry the request shortly.'),
    );
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return sendError(reply, validationStatus, validationItem(fastifyError.validation as never, fastifyError.validationContext));
  }
  const edge = edgeError(fastifyError);
  if (edge) return sendError(reply, edge.status, errorItem(edge.code, edge.message, edge.longMessage));
  // A fault of ours: log what it was (never the request's contents), answer without details.
  request.log.error({ reqId: request.id, err: { type: fastifyError.name, message: fastifyError.message, code: fastifyError.code } }, 'unhandled error');
  return sendError(reply, 500, errorItem('internal_error', 'Internal error', 'The server could not complete the request.'));
}

/** Errors Fastify raises before a handler runs, by their documented codes. */
function edgeError(error: FastifyError): HttpError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'request_body_too_large', 'Payload too large', `The request body exceeds ${BODY_LIMIT_BYTES} bytes.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new HttpError(415, 'unsupported_media_type', 'Unsupported media type', 'Send request bodies as application/json.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(400, 'request_body_invalid', 'is invalid', 'The Content-Length does not match the body.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError(400, 'request_body_invalid', 'is invalid', 'The request body is not valid JSON.');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new HttpError(400, 'request_invalid', 'is invalid', 'The request URL is malformed.');
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new HttpError(error.statusCode, 'request_invalid', 'is invalid', 'The request could not be processed.');
  }
  return null;
}
