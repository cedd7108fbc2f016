import {
  applyDecorators,
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  ForbiddenException,
  type HttpException,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiSecurity } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { type ApiClient, type ApiKeyRole, ApiKeys, DEV_CLIENT, roleAllows } from './api-keys.js';
import { errorBody } from './error-body.js';
import { API_KEY_HEADER, API_KEY_SCHEME, ApiErrorResponses } from './openapi.js';

const ROLE = Symbol('api-key-role');
const PUBLIC = Symbol('public-route');

/** Requests carry their caller here once the guard has identified it. */
export interface IdentifiedRequest extends Request {
  apiClient?: ApiClient;
}

/**
 * Marks a route that needs an API key of at least `role` in `x-api-key` (or as
 * `Authorization: Bearer <key>`), and documents it. A route with neither this nor
 * `@PublicRoute()` takes admin keys only: a new route is closed until someone opens it.
 */
export function RequireApiKey(role: ApiKeyRole = 'write'): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROLE, role),
    ApiSecurity(API_KEY_SCHEME),
    ApiErrorResponses(401, ...(role === 'read' ? [] : [403])),
  );
}

/** A route anyone may call without a key: probes (`/health/*`), nothing with customer data. */
export function PublicRoute(): MethodDecorator & ClassDecorator {
  return SetMetadata(PUBLIC, true);
}

/** The caller of an HTTP route (the guard has run): its client id and role. */
export const CurrentClient = createParamDecorator(
  (_data: unknown, context: ExecutionContext): ApiClient => {
    const client = context.switchToHttp().getRequest<IdentifiedRequest>().apiClient;
    if (!client) throw new Error('CurrentClient used on a route the API key guard did not check');
    return client;
  },
);

/** The key a request presents: `x-api-key`, else a bearer token (what Prometheus can send). */
export function presentedKey(req: Request): string | undefined {
  const header = req.header(API_KEY_HEADER);
  if (header) return header;
  const match = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
  return match?.[1];
}

/**
 * Identifies the caller of every HTTP route by its API key and checks its role. Missing or
 * unknown key: 401; a key whose role is too low: 403. With no key configured at all
 * (INSECURE_DEV_MODE), every caller is the admin `dev` client.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeys,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const required = this.reflector.getAllAndOverride<ApiKeyRole>(ROLE, targets) ?? 'admin';
    const req = context.switchToHttp().getRequest<IdentifiedRequest>();
    req.apiClient = authorize(this.keys, req, required);
    return true;
  }
}

/** The caller if its key passes `required`; throws 401/403 otherwise. */
export function authorize(keys: ApiKeys, req: Request, required: ApiKeyRole): ApiClient {
  if (keys.open) return DEV_CLIENT;
  const given = presentedKey(req);
  if (!given)
    throw new UnauthorizedException(`This endpoint needs an API key in ${API_KEY_HEADER}`);
  const client = keys.identify(given);
  if (!client) throw new UnauthorizedException('Unknown API key');
  if (!roleAllows(client.role, required)) {
    throw new ForbiddenException(`This endpoint needs an API key with the ${required} role`);
  }
  return client;
}

/** Express middleware for what is not a Nest route (Swagger UI): admin keys only. */
export function adminOnly(keys: ApiKeys) {
  return (req: Request, res: Response, next: NextFunction): void => {
    try {
      authorize(keys, req, 'admin');
    } catch (error) {
      const status = (error as HttpException).getStatus();
      res.status(status).json(errorBody(status, (error as HttpException).message));
      return;
    }
    next();
  };
}
