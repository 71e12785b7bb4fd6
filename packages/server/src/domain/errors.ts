import { MACHINE_ID } from './ids.js';

/**
 * Failures the domain reports. `kind` says what went wrong in protocol-neutral terms;
 * the HTTP layer maps it to a status. `code` is the stable machine-readable string.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unavailable';

export class TesseraError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly longMessage: string;
  readonly paramName: string | undefined;

  constructor(kind: ErrorKind, code: string, message: string, longMessage?: string, paramName?: string) {
    super(message);
    this.name = 'TesseraError';
    this.kind = kind;
    this.code = code;
    this.longMessage = longMessage ?? message;
    this.paramName = paramName;
  }
}

export function invalidParam(paramName: string, longMessage: string, code = 'form_param_value_invalid'): TesseraError {
  return new TesseraError('invalid', code, 'is invalid', longMessage, paramName);
}

export function notFound(code: string, longMessage: string, paramName?: string): TesseraError {
  return new TesseraError('not_found', code, 'not found', longMessage, paramName);
}

// Only a well-formed ID is echoed back: arbitrary user text stays out of messages.
export const machineNotFound = (id: string, paramName?: string) =>
  notFound(
    'resource_not_found',
    MACHINE_ID.test(id) ? `No machine was found with id ${id}.` : 'No machine was found with the given id.',
    paramName,
  );

export const tokenNotFound = () =>
  notFound('token_not_found', 'No M2M token was found for the given value or id.');
