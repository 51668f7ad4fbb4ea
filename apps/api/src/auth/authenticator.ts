import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { API_CONFIG } from '../config/config.tokens';
import { authDisabled, type ApiConfig } from '../config/api-config';
import { ApiProblem } from '../errors/problem';
import type { AccessRule } from './access.decorator';
import type { Principal } from './principal';
import { TokenService } from './token.service';

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

/** Where a request carries its credential. */
export interface Credentials {
  /** The `Authorization` header. */
  authorization: string | undefined;
  /** `?access_token=` as parsed from the query (an array when repeated). */
  accessToken: unknown;
}

/**
 * Decides who a request is and whether it may do what its route needs (PROTOCOL §5), for the
 * routes of Nest (through {@link AuthGuard}) and the stream route served beneath Express alike.
 */
@Injectable()
export class Authenticator implements OnModuleInit {
  private readonly logger = new Logger('Auth');
  private readonly disabled: boolean;

  constructor(
    private readonly tokens: TokenService,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    this.disabled = authDisabled(config);
  }

  onModuleInit(): void {
    if (this.disabled) {
      this.logger.warn(
        'auth is OFF: neither API_KEYS nor AUTH_SECRET is set; anyone may do anything',
      );
    }
  }

  /**
   * The principal allowed by `rule` for the session in the path (`sessionId`, as sent), or a
   * 401/403 problem. A public rule needs nothing; with auth off everyone is `open`.
   */
  async authenticate(
    credentials: Credentials,
    rule: AccessRule,
    sessionId: unknown,
  ): Promise<Principal> {
    if (this.disabled) return { kind: 'open' };
    const principal = await this.tokens.verify(this.credential(credentials, rule));
    this.authorize(principal, rule, sessionId);
    return principal;
  }

  /**
   * Whom a request's streams are counted for: a digest of its credential (an API key or a
   * session token), or `open` for everyone while auth is off. Call after {@link authenticate}.
   */
  credentialKey(credentials: Credentials, rule: AccessRule): string {
    if (this.disabled) return 'open';
    const credential = this.credential(credentials, rule);
    return createHash('sha256').update(credential).digest('base64url').slice(0, 22);
  }

  private credential(credentials: Credentials, rule: AccessRule): string {
    const header = credentials.authorization;
    if (header !== undefined && header !== '') {
      const match = BEARER.exec(header);
      if (!match)
        throw new ApiProblem('unauthorized', 'Authorization must be "Bearer <credential>"');
      return match[1];
    }
    const query = credentials.accessToken;
    if (rule.queryToken && typeof query === 'string' && query !== '') return query;
    throw new ApiProblem('unauthorized', 'missing credentials');
  }

  private authorize(principal: Principal, rule: AccessRule, sessionId: unknown): void {
    if (principal.kind !== 'session_token') return;
    if (rule.access === 'api_key') {
      throw new ApiProblem('forbidden', 'this route needs an API key');
    }
    if (typeof sessionId !== 'string' || principal.sessionId !== sessionId.toLowerCase()) {
      throw new ApiProblem('forbidden', 'the token is for another session');
    }
    if (!principal.scopes.has(rule.access as 'read' | 'write')) {
      throw new ApiProblem('forbidden', `the token lacks the "${rule.access}" scope`);
    }
  }
}
