export { createClerkClient, type ClerkClient } from './client/create-clerk-client.js';
export type { ClerkClientOptions } from './client/options.js';

export {
  M2MTokenApi,
  SeedM2MTokensApi,
  type CreateM2MTokenParams,
  type ListM2MTokensParams,
  type M2MTokenFormat,
  type RevokeM2MTokenParams,
  type VerifyM2MTokenParams,
} from './api/endpoints/m2m-token-api.js';
export {
  MachineApi,
  type CreateMachineParams,
  type ListMachinesParams,
  type RotateMachineSecretKeyParams,
  type UpdateMachineParams,
} from './api/endpoints/machine-api.js';
export { DeletedObject } from './api/resources/deleted-object.js';
export type { PaginatedResourceResponse } from './api/resources/deserializer.js';
export type { DeletedObjectJSON, M2MTokenJSON, MachineJSON, MachineScopeJSON, MachineSecretKeyJSON } from './api/resources/json.js';
export { M2MToken } from './api/resources/m2m-token.js';
export { Machine } from './api/resources/machine.js';
export { MachineScope } from './api/resources/machine-scope.js';
export { MachineSecretKey } from './api/resources/machine-secret-key.js';

export {
  TesseraAPIResponseError,
  TesseraAPIResponseError as ClerkAPIResponseError,
  isTesseraAPIResponseError,
  isTesseraAPIResponseError as isClerkAPIResponseError,
  type ClerkAPIError,
} from './errors/api-response-error.js';
export {
  MachineTokenVerificationError,
  MachineTokenVerificationErrorCode,
} from './errors/machine-token-verification-error.js';

export type { AuthenticateRequestOptions } from './tokens/authenticate-request.js';
export {
  AuthErrorReason,
  AuthStatus,
  type RequestState,
  type SignedInState,
  type SignedOutState,
} from './tokens/request-state.js';
export type {
  AuthObjectFor,
  AuthenticatedM2MObject,
  InvalidTokenAuthObject,
  SignedOutAuthObject,
  UnauthenticatedApiKeyObject,
  UnauthenticatedM2MObject,
  UnauthenticatedOAuthObject,
} from './tokens/auth-objects.js';
export { TokenType, type AcceptsToken, type MachineTokenType } from './tokens/token-types.js';
export { SDK_VERSION } from './constants.js';
