import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ACCESS_KEY, type AccessRule } from './access.decorator';
import { Authenticator } from './authenticator';
import type { AuthedRequest } from './principal';

/** Enforces each Nest route's {@link RequireAccess} rule (PROTOCOL §5). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!rule) throw new Error('route without an access rule');
    if (rule.access === 'public') return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    req.principal = await this.auth.authenticate(
      { authorization: req.headers.authorization, accessToken: req.query?.access_token },
      rule,
      rule.sessionInBody ? (req.body as { id?: unknown } | undefined)?.id : req.params?.id,
    );
    return true;
  }
}
