import { SetMetadata } from '@nestjs/common';
import type { Access, AccessOptions } from './principal';

export const ACCESS_KEY = 'sessionwire:access';

export interface AccessRule extends AccessOptions {
  access: Access;
}

/** Declares what a route needs (checked by {@link AuthGuard}); routes without it are refused. */
export const RequireAccess = (access: Access, options: AccessOptions = {}) =>
  SetMetadata(ACCESS_KEY, { access, ...options } satisfies AccessRule);
