/** One entry of the Backend API error envelope, camel-cased (spec 1.10). */
export interface ClerkAPIError {
  code: string;
  message: string;
  longMessage?: string;
  meta?: { paramName?: string };
}

export interface TesseraAPIResponseErrorInit {
  /** HTTP status; 0 when no response arrived (network failure, timeout). */
  status: number;
  statusText?: string;
  errors: ClerkAPIError[];
  traceId?: string;
  retryAfter?: number;
  cause?: unknown;
}

/**
 * A Backend API call failed: a non-2xx answer, or no answer at all (status 0, with a
 * single error whose code is `request_timeout` or `unexpected_error`). Exported under
 * Clerk's name too, so code written for `@clerk/backend` catches it unchanged.
 */
export class TesseraAPIResponseError extends Error {
  /** `isClerkAPIResponseError` in Clerk's packages looks for this marker. */
  readonly clerkError = true as const;
  readonly code = 'api_response_error' as const;
  readonly status: number;
  readonly statusText: string;
  readonly errors: ClerkAPIError[];
  readonly traceId: string;
  readonly retryAfter: number | undefined;

  constructor(init: TesseraAPIResponseErrorInit) {
    super(describe(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'TesseraAPIResponseError';
    this.status = init.status;
    this.statusText = init.statusText ?? '';
    this.errors = init.errors;
    this.traceId = init.traceId ?? '';
    this.retryAfter = init.retryAfter;
  }

  /** Clerk's name for `traceId`. */
  get clerkTraceId(): string {
    return this.traceId;
  }
}

function describe({ status, statusText, errors }: TesseraAPIResponseErrorInit): string {
  const first = errors[0];
  const detail = first ? `${first.code}: ${first.longMessage ?? first.message}` : statusText || 'no details';
  return status === 0 ? `Tessera API request failed (${detail})` : `Tessera API responded ${status} (${detail})`;
}

export function isTesseraAPIResponseError(error: unknown): error is TesseraAPIResponseError {
  return error instanceof TesseraAPIResponseError;
}
