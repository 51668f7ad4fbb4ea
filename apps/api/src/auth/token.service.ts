import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { TokenIssued } from '@sessionwire/transport/protocol';
import { v7 as uuidv7 } from 'uuid';
import { API_CONFIG } from '../config/config.tokens';
import type { ApiConfig } from '../config/api-config';
import { ApiProblem } from '../errors/problem';
import type { Principal, Scope } from './principal';

const AUDIENCE = 'sessionwire';
const ISSUER = 'sessionwire-api';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** API key checks and session-scoped JWTs (HS256 with AUTH_SECRET, no clock tolerance). */
@Injectable()
export class TokenService {
  private readonly keyDigests: Buffer[];
  private readonly secret?: Uint8Array;

  constructor(@Inject(API_CONFIG) config: ApiConfig) {
    this.keyDigests = config.apiKeys.map(digest);
    this.secret = config.authSecret ? new TextEncoder().encode(config.authSecret) : undefined;
  }

  isApiKey(candidate: string): boolean {
    const d = digest(candidate);
    let found = false;
    for (const key of this.keyDigests) found = timingSafeEqual(d, key) || found;
    return found;
  }

  async mint(sessionId: string, scopes: Scope[], ttlSeconds: number): Promise<TokenIssued> {
    if (!this.secret) {
      throw new ApiProblem('forbidden', 'token minting is disabled: AUTH_SECRET is not configured');
    }
    const now = Math.floor(Date.now() / 1000);
    const exp = now + ttlSeconds;
    const token = await new SignJWT({ scope: scopes })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sessionId)
      .setAudience(AUDIENCE)
      .setIssuer(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(uuidv7())
      .sign(this.secret);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** The principal of a bearer credential; 401 when it is neither a key nor a valid token. */
  async verify(credential: string): Promise<Principal> {
    if (this.isApiKey(credential)) return { kind: 'api_key' };
    if (!this.secret) throw new ApiProblem('unauthorized', 'invalid credentials');
    try {
      const { payload } = await jwtVerify(credential, this.secret, {
        algorithms: ['HS256'],
        audience: AUDIENCE,
        issuer: ISSUER,
        clockTolerance: 0,
        requiredClaims: ['sub', 'exp'],
      });
      const scope = payload.scope;
      if (!Array.isArray(scope) || !scope.every((s) => s === 'read' || s === 'write')) {
        throw new ApiProblem('unauthorized', 'token has no valid scope');
      }
      return {
        kind: 'session_token',
        sessionId: String(payload.sub),
        scopes: new Set(scope as Scope[]),
      };
    } catch (error) {
      if (error instanceof ApiProblem) throw error;
      if (error instanceof joseErrors.JWTExpired) {
        throw new ApiProblem('unauthorized', 'token expired');
      }
      if (error instanceof joseErrors.JOSEError) {
        throw new ApiProblem('unauthorized', 'invalid credentials');
      }
      throw error;
    }
  }
}
