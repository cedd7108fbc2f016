import { applyDecorators, type INestApplication } from '@nestjs/common';
import {
  ApiBody,
  ApiParam,
  ApiQuery,
  ApiResponse,
  DocumentBuilder,
  type OpenAPIObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { z } from 'zod';
import { ErrorBody, errorBody } from './error-body.js';

/** @nestjs/swagger does not export its SchemaObject type. */
type SchemaObject = Exclude<
  NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>[string],
  { $ref: string }
>;

export const DOCS_PATH = 'docs';
export const API_KEY_HEADER = 'x-api-key';
/** The OpenAPI security scheme of the `x-api-key` header. */
export const API_KEY_SCHEME = 'api-key';
const ERROR_BODY_REF = '#/components/schemas/ErrorBody';

/**
 * The OpenAPI (3.0) schema of a zod schema: request bodies and queries as clients send them
 * (`input`: defaults optional, coercions), responses as the service sends them (`output`).
 * The zod schema stays the one definition; the docs are generated from it, never copied.
 */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  const { $schema: _, ...json } = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return json as SchemaObject;
}

/** `@ApiBody` from the zod schema the route validates with, plus one valid example. */
export function ApiZodBody<S extends z.ZodType>(
  schema: S,
  example: z.input<S>,
  description?: string,
): MethodDecorator {
  return ApiBody({ description, schema: { ...openApiSchema(schema), example } });
}

/** `@ApiResponse` with the schema of what the route returns and an example of it. */
export function ApiZodResponse<S extends z.ZodType>(
  status: number,
  schema: S,
  options: { description: string; example?: z.output<S>; headers?: Record<string, string> },
): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status,
    description: options.description,
    schema: { ...openApiSchema(schema, 'output'), example: options.example },
    headers: Object.fromEntries(
      Object.entries(options.headers ?? {}).map(([name, description]) => [
        name,
        { description, schema: { type: 'string' } },
      ]),
    ),
  });
}

/** One `@ApiQuery` per field of the zod object the route validates its query with. */
export function ApiZodQuery(schema: z.ZodObject): MethodDecorator {
  const json = openApiSchema(schema);
  const required = new Set(json.required ?? []);
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, property]) =>
      ApiQuery({ name, required: required.has(name), schema: property as SchemaObject }),
    ),
  );
}

/** `@ApiParam` for a path parameter validated by a zod schema. */
export function ApiZodParam(name: string, schema: z.ZodType, description?: string) {
  return ApiParam({ name, description, schema: openApiSchema(schema) });
}

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'Invalid input: `issues` names each bad field (unknown fields are refused too)',
  401: 'Missing or unknown API key (header x-api-key)',
  403: 'The API key is not an admin key',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Request body larger than HTTP_BODY_LIMIT',
  422: 'Well-formed but refused',
  429: 'More than HTTP_RATE_LIMIT requests in a minute; retry after Retry-After seconds',
  500: 'Unexpected failure (logged, not detailed)',
};

/**
 * Error responses, all with the `ErrorBody` schema. `[status, description]` overrides the
 * generic description (e.g. which error code a 409 carries).
 */
export function ApiErrorResponses(
  ...responses: (number | [number, string])[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...responses.map((response) => {
      const [status, description] = Array.isArray(response)
        ? response
        : [response, ERROR_DESCRIPTIONS[response] ?? 'Error'];
      return ApiResponse({ status, description, schema: { $ref: ERROR_BODY_REF } });
    }),
  );
}

export interface ApiInfo {
  title: string;
  description: string;
}

/**
 * Swagger UI at `/docs`, the document at `/docs-json`. Every operation of the API also gets
 * the responses the platform adds to all routes: 429 (rate limit, except health and
 * metrics), 413 (if it takes a body) and 500, each with the one error body.
 */
export function setupOpenApi(app: INestApplication, service: string, info?: ApiInfo): void {
  const config = new DocumentBuilder()
    .setTitle(info?.title ?? `${service} API`)
    .setDescription(info?.description ?? `HTTP API of the ${service} service.`)
    .setVersion('1')
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: API_KEY_HEADER,
        description:
          'Every endpoint but /health takes a key of API_KEYS (`<client>:<role>:<key>`): read keys read their own client’s orders, write keys also place and cancel them, admin keys do everything for every client (docs/security.md).',
      },
      API_KEY_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  addPlatformResponses(document);
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: `${DOCS_PATH}-json`,
    customSiteTitle: config.info.title,
  });
}

function addPlatformResponses(document: OpenAPIObject): void {
  document.components ??= {};
  document.components.schemas = {
    ...document.components.schemas,
    ErrorBody: {
      ...openApiSchema(ErrorBody, 'output'),
      example: errorBody(400, 'items.0.quantity: Too small: expected number to be >=1', {
        issues: [{ path: 'items.0.quantity', message: 'Too small: expected number to be >=1' }],
      }),
    },
  };
  for (const [path, item] of Object.entries(document.paths)) {
    const ops = /^\/(health|metrics)(\/|$)/.test(path);
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (!operation) continue;
      const add = (status: number) => {
        operation.responses[status] ??= {
          description: ERROR_DESCRIPTIONS[status]!,
          content: { 'application/json': { schema: { $ref: ERROR_BODY_REF } } },
        };
      };
      if (operation.requestBody) add(413);
      if (!ops) add(429);
      add(500);
    }
  }
}
