import {
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiSecurity } from '@nestjs/swagger';
import type { Request } from 'express';
import { type ApiKeyRole, ApiKeys } from './api-keys.js';
import { API_KEY_HEADER, API_KEY_SCHEME, ApiErrorResponses } from './openapi.js';

const ROLE = Symbol('api-key-role');

/**
 * Marks a route that needs an API key in `x-api-key` (and documents it): write endpoints
 * take any key of API_KEYS or ADMIN_API_KEYS, admin endpoints (`'admin'`) only the latter.
 */
export function RequireApiKey(role: ApiKeyRole = 'write'): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROLE, role),
    ApiSecurity(API_KEY_SCHEME),
    ApiErrorResponses(401, ...(role === 'admin' ? [403] : [])),
  );
}

/**
 * Checks `x-api-key` on the routes marked with `@RequireApiKey()`. With neither API_KEYS nor
 * ADMIN_API_KEYS set, every route is open (development; the service warns at start-up). Once
 * any key is set, a missing or unknown key is 401 and a write key on an admin route 403, so
 * setting only API_KEYS never leaves the admin endpoints open.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeys,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const role = this.reflector.getAllAndOverride<ApiKeyRole | undefined>(ROLE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!role) return true;
    const given = context.switchToHttp().getRequest<Request>().header(API_KEY_HEADER);
    switch (this.keys.check(given, role)) {
      case 'ok':
        return true;
      case 'missing':
        throw new UnauthorizedException(`This endpoint needs an API key in ${API_KEY_HEADER}`);
      case 'unknown':
        throw new UnauthorizedException('Unknown API key');
      case 'not-admin':
        throw new ForbiddenException('This endpoint needs an admin API key');
    }
  }
}
