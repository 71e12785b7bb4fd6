export const TokenType = {
  SessionToken: 'session_token',
  ApiKey: 'api_key',
  M2MToken: 'm2m_token',
  OAuthToken: 'oauth_token',
} as const;

export type TokenType = (typeof TokenType)[keyof typeof TokenType];
export type SessionTokenType = typeof TokenType.SessionToken;
export type MachineTokenType = Exclude<TokenType, SessionTokenType>;

/** What `authenticateRequest` may accept: one type, several, or any. */
export type AcceptsToken = TokenType | readonly TokenType[] | 'any';

export const isMachineTokenType = (type: TokenType): type is MachineTokenType => type !== TokenType.SessionToken;
