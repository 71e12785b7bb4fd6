import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, HTTPMethods } from 'fastify';
import type { Authenticator, Credential } from '../auth.js';
import type { Principal } from '../../domain/records.js';
import type { MachineService } from '../../domain/machines.js';
import type { TokenService } from '../../domain/tokens.js';
import type { SigningKeys } from '../../domain/signing-keys.js';
import type { Renderer } from '../render.js';

export interface RouteDeps {
  auth: Authenticator;
  machines: MachineService;
  tokens: TokenService;
  render: Renderer;
  signingKeys: SigningKeys;
  now: () => number;
}

export interface RouteConfig {
  /** Status for a malformed request on this route: 400 (M2M routes) or 422 (machine routes). */
  validationStatus: 400 | 422;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set before the body is read, on routes that take a credential. */
    principal: Principal;
  }
}

export interface RouteDefinition {
  method: HTTPMethods;
  url: string;
  /** Checked first, before the body is parsed or validated: a bad credential is always a 401. */
  credential: Credential | 'none';
  validationStatus: 400 | 422;
  schema?: FastifySchema;
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/** Remembers every path pattern so unknown methods on known paths can answer 405. */
export class RouteTable {
  readonly #patterns: Array<{ method: string; regex: RegExp }> = [];

  constructor(
    private readonly app: FastifyInstance,
    private readonly auth: Authenticator,
  ) {
    app.decorateRequest('principal', null as never);
  }

  add(def: RouteDefinition): void {
    const config: RouteConfig = { validationStatus: def.validationStatus };
    const { credential } = def;
    const auth = this.auth;
    this.app.route({
      method: def.method,
      url: def.url,
      schema: def.schema ?? {},
      config,
      onRequest:
        credential === 'none'
          ? []
          : [
              async (request: FastifyRequest) => {
                request.principal = await auth.require(request, credential);
              },
            ],
      handler: def.handler,
    });
    const source = def.url.replace(/:[^/]+/g, '[^/]+');
    this.#patterns.push({ method: String(def.method), regex: new RegExp(`^${source}$`) });
  }

  /** Methods served at `path`, for a 405's Allow header; empty if the path is unknown. */
  methodsAt(path: string): string[] {
    const methods = new Set<string>();
    for (const p of this.#patterns) if (p.regex.test(path)) methods.add(p.method);
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }
}

/** Path parameters by name, as strings. */
export const param = (request: FastifyRequest, name: string) => (request.params as Record<string, string>)[name] ?? '';
