import {
  Inject,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
  type OnModuleInit,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { API_CONFIG } from '../config/config.tokens';
import { authDisabled, type ApiConfig } from '../config/api-config';
import { ApiProblem } from '../errors/problem';
import { ACCESS_KEY, type AccessRule } from './access.decorator';
import type { AuthedRequest, Principal } from './principal';
import { TokenService } from './token.service';

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

/** Enforces each route's {@link RequireAccess} rule (PROTOCOL §5). */
@Injectable()
export class AuthGuard implements CanActivate, OnModuleInit {
  private readonly logger = new Logger('Auth');
  private readonly disabled: boolean;

  constructor(
    private readonly reflector: Reflector,
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

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!rule) throw new Error('route without an access rule');
    if (rule.access === 'public') return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    if (this.disabled) {
      req.principal = { kind: 'open' };
      return true;
    }
    const principal = await this.tokens.verify(this.credential(req, rule));
    req.principal = principal;
    this.authorize(principal, rule, req.params?.id);
    return true;
  }

  private credential(req: AuthedRequest, rule: AccessRule): string {
    const header = req.headers.authorization;
    if (header !== undefined && header !== '') {
      const match = BEARER.exec(header);
      if (!match)
        throw new ApiProblem('unauthorized', 'Authorization must be "Bearer <credential>"');
      return match[1];
    }
    const query = req.query?.access_token;
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
