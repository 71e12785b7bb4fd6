import { isTesseraAPIResponseError } from './api-response-error.js';
import {
  MachineTokenVerificationError,
  MachineTokenVerificationErrorCode as Code,
  unexpectedError,
} from './machine-token-verification-error.js';

/**
 * A failed Backend API call made while verifying a token, as the verification error that
 * `authenticateRequest` reports (spec 4.5): 401 → secret-key-invalid, 404 →
 * token-invalid (when the call looked the token up), anything else → unexpected-error.
 * Never a success: whatever goes wrong, the caller ends signed out.
 */
export function toVerificationError(error: unknown, what: string, notFoundMessage?: string): MachineTokenVerificationError {
  if (error instanceof MachineTokenVerificationError) return error;
  if (!isTesseraAPIResponseError(error)) return unexpectedError(`${what} failed unexpectedly`, undefined, error);
  const first = error.errors[0];
  if (error.status === 401) {
    return new MachineTokenVerificationError({
      code: Code.InvalidSecretKey,
      message: first?.message || 'Invalid secret key',
      status: 401,
      action: 'Check CLERK_SECRET_KEY / CLERK_MACHINE_SECRET_KEY against the Tessera server.',
      cause: error,
    });
  }
  if (error.status === 404 && notFoundMessage !== undefined) {
    return new MachineTokenVerificationError({ code: Code.TokenInvalid, message: notFoundMessage, status: 404, cause: error });
  }
  if (error.status === 0) {
    return unexpectedError(`${what} failed: the Tessera server could not be reached (${first?.code ?? 'network error'})`, undefined, error);
  }
  return unexpectedError(`${what} failed: the Tessera server answered ${error.status}`, error.status, error);
}
