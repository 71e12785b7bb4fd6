/** Why a machine token failed verification (spec 4.7). */
export const MachineTokenVerificationErrorCode = {
  TokenInvalid: 'token-invalid',
  InvalidSecretKey: 'secret-key-invalid',
  UnexpectedError: 'unexpected-error',
  TokenVerificationFailed: 'token-verification-failed',
} as const;

export type MachineTokenVerificationErrorCode =
  (typeof MachineTokenVerificationErrorCode)[keyof typeof MachineTokenVerificationErrorCode];

export interface MachineTokenVerificationErrorInit {
  code: MachineTokenVerificationErrorCode;
  message: string;
  /** HTTP status of the Backend API answer behind the failure, when there was one. */
  status?: number;
  /** What the operator can do about it. */
  action?: string;
  cause?: unknown;
}

export class MachineTokenVerificationError extends Error {
  readonly code: MachineTokenVerificationErrorCode;
  readonly status: number | undefined;
  readonly action: string | undefined;

  constructor(init: MachineTokenVerificationErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'MachineTokenVerificationError';
    this.code = init.code;
    this.status = init.status;
    this.action = init.action;
  }

  /** `"<message> (code=<code>, status=<status|n/a>)"`, the format `authenticateRequest` reports. */
  getFullMessage(): string {
    return `${this.message} (code=${this.code}, status=${this.status ?? 'n/a'})`;
  }
}

export const tokenInvalid = (message: string, status?: number) =>
  new MachineTokenVerificationError({ code: MachineTokenVerificationErrorCode.TokenInvalid, message, status });

export const verificationFailed = (message: string, cause?: unknown) =>
  new MachineTokenVerificationError({ code: MachineTokenVerificationErrorCode.TokenVerificationFailed, message, cause });

export const unexpectedError = (message: string, status?: number, cause?: unknown) =>
  new MachineTokenVerificationError({ code: MachineTokenVerificationErrorCode.UnexpectedError, message, status, cause });
