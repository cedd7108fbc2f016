import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http } from '../support/http.js';
import { type ServiceName, TestSystem } from '../support/system.js';

/** `METHOD /path` of every documented operation but the probes'. */
function operations(document: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(document.paths)
    .filter(([path]) => !/^\/(health|metrics)(\/|$)/.test(path))
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe('the OpenAPI documents', () => {
  let system: TestSystem;
  const docs: Partial<Record<ServiceName, any>> = {};

  beforeAll(async () => {
    system = await TestSystem.start('openapi');
    for (const service of ['order', 'inventory', 'notification'] as const) {
      const res = await http('GET', system.url(service, '/docs-json'));
      expect(res.status).toBe(200);
      docs[service] = res.body;
    }
  });

  afterAll(() => system?.stop());

  it('documents every operation of each API, and nothing else', () => {
    expect(operations(docs.order)).toEqual([
      'GET /orders',
      'GET /orders/{id}',
      'GET /orders/{id}/events',
      'POST /orders',
      'POST /orders/{id}/cancel',
    ]);
    expect(operations(docs.inventory)).toEqual(['GET /stock/{sku}', 'PUT /stock/{sku}']);
    expect(operations(docs.notification)).toEqual(['GET /notifications']);
  });

  it('gives POST /orders the body schema the route validates with, and an example', () => {
    const post = docs.order.paths['/orders'].post;
    const body = post.requestBody.content['application/json'].schema;

    expect(body.required).toEqual(expect.arrayContaining(['customerEmail', 'items']));
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.items).toMatchObject({ type: 'array', minItems: 1, maxItems: 100 });
    expect(body.properties.items.items.required).toEqual(['sku', 'quantity']);
    expect(body.example).toEqual({
      customerEmail: 'ada@example.com',
      items: [{ sku: 'LAPTOP-STAND', quantity: 2 }],
    });
  });

  it('documents the responses of POST /orders, each error with the one error body', () => {
    const post = docs.order.paths['/orders'].post;
    const { responses, security } = post;

    expect(Object.keys(responses).sort()).toEqual(
      ['201', '202', '400', '401', '403', '413', '422', '429', '500'].sort(),
    );
    expect(responses['201'].content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['id', 'status', 'customerEmail', 'items', 'rejection']),
    );
    for (const status of ['400', '401', '413', '422', '429'])
      expect(responses[status].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/ErrorBody',
      });
    expect(docs.order.components.schemas.ErrorBody.required).toEqual([
      'statusCode',
      'error',
      'message',
    ]);
    expect(security).toEqual([{ 'api-key': [] }]);
    expect(responses['202'].headers).toHaveProperty('Location');
    expect(post.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['Idempotency-Key', 'Prefer']),
    );
  });

  it('documents 404 and 409 where the domain raises them, 403 on the admin endpoint', () => {
    expect(Object.keys(docs.order.paths['/orders/{id}'].get.responses)).toEqual(
      expect.arrayContaining(['200', '400', '404']),
    );
    expect(Object.keys(docs.order.paths['/orders/{id}/cancel'].post.responses)).toEqual(
      expect.arrayContaining(['200', '401', '404', '409']),
    );
    expect(Object.keys(docs.inventory.paths['/stock/{sku}'].put.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '413']),
    );
    // Reads take a key too; /health alone is open.
    expect(docs.order.paths['/orders/{id}'].get.security).toEqual([{ 'api-key': [] }]);
    expect(docs.order.paths['/health/live'].get.security).toBeUndefined();
    expect(
      Object.keys(docs.order.paths['/orders/{id}/events'].get.responses['200'].content),
    ).toEqual(['text/event-stream']);
  });

  it('documents the query parameters a list accepts', () => {
    const names = (path: string, doc: any) =>
      doc.paths[path].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);

    expect(names('/orders', docs.order)).toEqual(['query:status', 'query:limit', 'query:cursor']);
    expect(names('/notifications', docs.notification)).toEqual(['query:orderId', 'query:limit']);
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await http('GET', system.url('order', '/docs'));

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.body).toContain('swagger-ui');
  });
});
