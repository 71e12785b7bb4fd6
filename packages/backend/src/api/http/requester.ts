import { SUPPORTED_BAPI_VERSION } from '../../constants.js';
import { TesseraAPIResponseError, type ClerkAPIError } from '../../errors/api-response-error.js';
import { delay } from '../../runtime/delay.js';
import { snakeCaseKeys } from './case.js';
import { joinPaths, queryString } from './url.js';

export interface RequesterConfig {
  apiUrl: string;
  apiVersion: string;
  userAgent: string;
  /** Budget for one call, retries and back-off included. */
  timeoutInMs: number;
  maxRetries: number;
  fetch: typeof fetch;
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path after the base URL (and after the version segment when `versioned`). */
  path: string;
  /** `/v1/machines…` are versioned; the M2M token routes are called without `/v1` (spec 2.1). */
  versioned: boolean;
  /** Sent as `Authorization: Bearer …`; none when undefined. */
  bearer?: string | undefined;
  query?: Record<string, unknown>;
  body?: Record<string, unknown>;
  /**
   * Safe to repeat: reads and verification. Never set for create or revoke, where a
   * repeat after a lost answer would mint a second token or mask the first outcome.
   */
  retry: boolean;
}

const BACKOFF_BASE_MS = 100;

/** Web-standard fetch with the Backend API's headers, a deadline, bounded retries and the error envelope. */
export class Requester {
  constructor(readonly config: RequesterConfig) {}

  async send(req: ApiRequest): Promise<unknown> {
    const { apiUrl, apiVersion, timeoutInMs, maxRetries } = this.config;
    const url = joinPaths(apiUrl, req.versioned ? apiVersion : '', req.path) + queryString(req.query);
    const init = this.#init(req);
    const started = Date.now();
    const signal = AbortSignal.timeout(timeoutInMs);

    for (let attempt = 0; ; attempt++) {
      let failure: TesseraAPIResponseError;
      try {
        const response = await this.config.fetch(url, { ...init, signal });
        const outcome = await readResponse(response);
        if (!(outcome instanceof TesseraAPIResponseError)) return outcome;
        failure = outcome;
      } catch (error) {
        failure = networkFailure(error, signal, timeoutInMs);
        if (signal.aborted) throw failure;
      }
      const wait = req.retry && attempt < maxRetries ? retryDelay(failure, attempt) : null;
      if (wait === null || Date.now() - started + wait >= timeoutInMs) throw failure;
      try {
        await delay(wait, signal);
      } catch {
        throw failure;
      }
    }
  }

  #init(req: ApiRequest): RequestInit {
    const headers = new Headers({
      'Clerk-API-Version': SUPPORTED_BAPI_VERSION,
      'Content-Type': 'application/json',
      'User-Agent': this.config.userAgent,
    });
    if (req.bearer) headers.set('Authorization', `Bearer ${req.bearer}`);
    const init: RequestInit = { method: req.method, headers };
    if (req.method !== 'GET' && req.body && Object.keys(req.body).length > 0) {
      init.body = JSON.stringify(snakeCaseKeys(req.body));
    }
    return init;
  }
}

/** Milliseconds to wait before the next attempt, or null when this failure is final. */
function retryDelay(failure: TesseraAPIResponseError, attempt: number): number | null {
  const retryable = failure.status === 0 || failure.status === 429 || failure.status >= 500;
  if (!retryable) return null;
  if (failure.retryAfter !== undefined) return failure.retryAfter * 1000;
  return BACKOFF_BASE_MS * 2 ** attempt + Math.floor(Math.random() * BACKOFF_BASE_MS);
}

/** The parsed body of a 2xx answer, or the error a non-2xx answer stands for. */
async function readResponse(response: Response): Promise<unknown> {
  const isJson = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() === 'application/json';
  const text = await response.text();
  let body: unknown = undefined;
  let parsed = false;
  if (isJson && text !== '') {
    try {
      body = JSON.parse(text);
      parsed = true;
    } catch {
      // handled below: a body we cannot read
    }
  }
  if (response.ok) {
    if (response.status === 204 || text === '') return undefined;
    if (parsed) return body;
    return new TesseraAPIResponseError({
      status: response.status,
      statusText: response.statusText,
      errors: [{ code: 'response_invalid', message: 'The server answered with a body that is not JSON.' }],
    });
  }
  const envelope = (parsed && typeof body === 'object' && body !== null ? body : {}) as {
    errors?: unknown;
    clerk_trace_id?: unknown;
  };
  return new TesseraAPIResponseError({
    status: response.status,
    statusText: response.statusText,
    errors: Array.isArray(envelope.errors) ? envelope.errors.map(parseErrorItem) : [],
    traceId: typeof envelope.clerk_trace_id === 'string' ? envelope.clerk_trace_id : (response.headers.get('cf-ray') ?? ''),
    retryAfter: parseRetryAfter(response.headers.get('retry-after')),
  });
}

function parseErrorItem(raw: unknown): ClerkAPIError {
  const item = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const meta = (typeof item.meta === 'object' && item.meta !== null ? item.meta : {}) as Record<string, unknown>;
  const error: ClerkAPIError = {
    code: typeof item.code === 'string' ? item.code : 'unknown_error',
    message: typeof item.message === 'string' ? item.message : '',
    meta: {},
  };
  if (typeof item.long_message === 'string') error.longMessage = item.long_message;
  if (typeof meta.param_name === 'string') error.meta = { paramName: meta.param_name };
  return error;
}

function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

function networkFailure(error: unknown, signal: AbortSignal, timeoutInMs: number): TesseraAPIResponseError {
  if (signal.aborted) {
    return new TesseraAPIResponseError({
      status: 0,
      errors: [{ code: 'request_timeout', message: `No answer from the Tessera server within ${timeoutInMs} ms.` }],
      cause: error,
    });
  }
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new TesseraAPIResponseError({
    status: 0,
    errors: [{ code: 'unexpected_error', message: typeof cause === 'string' ? `${message} (${cause})` : message }],
    cause: error,
  });
}
