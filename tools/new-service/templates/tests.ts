import type { ServiceSpec } from '../spec.js';

export function configSpecFile(s: ServiceSpec): string {
  return `import { describe, expect, it } from '@jest/globals';
import { load${s.pascal}Config } from './${s.name}.config.js';

const env = {
  RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/shop',
  API_KEYS: 'ops:admin:test-admin-key-0001',
};

describe('load${s.pascal}Config', () => {
  it('listens on ${s.port} and keeps its tables in schema ${s.schema} by default', () => {
    const config = load${s.pascal}Config(env);

    expect(config.http.port).toBe(${s.port});
    expect(config.database.schema).toBe('${s.schema}');
    expect(config.messaging.service).toBe('${s.name}');
  });

  it('names every missing variable', () => {
    expect(() => load${s.pascal}Config({})).toThrow(
      /RABBITMQ_URL: is required[\\s\\S]*DATABASE_URL: is required/,
    );
  });
});
`;
}

/** `test/<service>/<service>.e2e-spec.ts`: the service alone, on its own vhost and database. */
export function e2eSpecFile(s: ServiceSpec): string {
  const rpc = s.rpcs[0];
  const event = s.events[0];
  const cases: string[] = [];
  for (const r of s.rpcs) {
    cases.push(`  it('answers ${r.name}${s.db ? ', and a repeat with the first answer' : ''}', async () => {
    const client = await system.rpcClient();
    const request = { ...${r.constant}.example!.request, id: randomUUID() };

    const first = await client.request(${r.constant}, request);

    expect(first).toMatchObject({ id: request.id, status: 'ACCEPTED' });
    ${s.db ? `expect(await client.request(${r.constant}, request)).toEqual(first);` : ''}
  });

  it('refuses an invalid ${r.name} request, naming the field', async () => {
    const client = await system.rpcClient();

    await expect(client.call(${r.constant}.name, ${r.constant}.version, { id: 'nope' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('id'),
    });
  });`);
  }
  for (const e of s.events) {
    cases.push(`  it('records each ${e.name} once, even when it is delivered twice', async () => {
    const messageId = randomUUID();
    await publish(${e.constant}, ${e.constant}.example, messageId);
    await publish(${e.constant}, ${e.constant}.example, messageId);
    // A later event, and then an empty queue, prove the duplicate was consumed.
    const later = randomUUID();
    await publish(${e.constant}, ${e.constant}.example, later);

    await waitFor('the later event', async () => (await recorded(later)).length === 1);
    await waitFor(
      'the events queue to drain',
      async () => (await system.admin.queue(system.vhost, '${s.name}.events'))?.messages === 0,
    );
    expect(await recorded(messageId)).toEqual([{ type: ${e.constant}.name, data: ${e.constant}.example }]);
  });`);
  }
  if (event) {
    cases.push(`  it('dead-letters an invalid ${event.name}, recording nothing', async () => {
    const messageId = randomUUID();
    await publish(${event.constant}, { broken: messageId }, messageId);

    const dead = await system.probe.take(deadLetterQueue('${s.name}'), messageId);
    expect(dead.properties.headers).toMatchObject({ 'x-death-reason': 'invalid', 'x-service': '${s.name}' });
    expect(await recorded(messageId)).toEqual([]);
  });`);
  }
  if (s.http) cases.push(...httpCases(s));
  const contracts = [...s.rpcs.map((r) => r.constant), ...s.events.map((e) => e.constant)];
  const messaging = [event && 'deadLetterQueue', event && 'EVENTS_EXCHANGE'].filter(Boolean);
  const helpers = event
    ? `
  const publish = (contract: EventContract, body: unknown, messageId: string) =>
    system.probe.publish(EVENTS_EXCHANGE, contract.name, body, {
      messageId,
      type: contract.name,
      contentType: 'application/json',
      persistent: true,
      headers: { 'x-message-version': contract.version },
    });

  const recorded = (id: string) =>
    system.query('select type, data from ${s.schema}.records where id = $1', [id]);
`
    : '';
  return `${rpc || event || s.db ? `import { randomUUID } from 'node:crypto';\n` : ''}import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
${contracts.length || event ? `import { ${[...contracts, ...(event ? ['type EventContract'] : [])].join(', ')} } from '@app/contracts';` : ''}
${messaging.length ? `import { ${messaging.join(', ')} } from '@app/messaging';` : ''}
${event ? `import { waitFor } from '@app/messaging/testing';` : ''}
${s.http ? `import { http } from '../support/http.js';` : ''}
import { TestSystem } from '../support/system.js';

describe('the ${s.name} service', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start('${s.name}', { services: ['${s.name}'] });
  });

  afterAll(() => system?.stop());
${helpers}
${cases.join('\n\n')}
});
`;
}

function httpCases(s: ServiceSpec): string[] {
  const url = (path: string) => `system.url('${s.name}', \`/${s.name}${path}\`)`;
  const cases: string[] = [];
  for (const r of s.rpcs) {
    cases.push(`  it('answers POST /${s.name}/${r.verb} like the RPC, and 400 for an invalid body', async () => {
    const request = { ...${r.constant}.example!.request, id: randomUUID() };

    const res = await http('POST', ${url(`/${r.verb}`)}, request);

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: request.id, status: 'ACCEPTED' });
    expect((await http('POST', ${url(`/${r.verb}`)}, { id: 'nope' })).status).toBe(400);
  });`);
  }
  if (s.db && !s.rpcs.length && !s.events.length) {
    cases.push(`  it('lists no records yet, and answers 404 for an unknown one', async () => {
    expect(await http('GET', ${url('/records')})).toMatchObject({ status: 200, body: [] });
    expect((await http('GET', ${url('/records/${randomUUID()}')})).status).toBe(404);
  });`);
  } else if (s.db) {
    const r = s.rpcs[0];
    const e = s.events[0]!;
    const make = r
      ? `const { id } = await (await system.rpcClient()).request(${r.constant}, { ...${r.constant}.example!.request, id: randomUUID() });`
      : `const id = randomUUID();
    await publish(${e.constant}, ${e.constant}.example, id);
    await waitFor('the record', async () => (await recorded(id)).length === 1);`;
    cases.push(`  it('shows a record over HTTP, and answers 404 for an unknown one', async () => {
    ${make}

    const found = await http('GET', ${url('/records/${id}')});
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id, type: ${(r ?? e).constant}.name });
    const listed = await http('GET', ${url(`/records?type=\${${(r ?? e).constant}.name}`)});
    expect(listed.body).toContainEqual(found.body);
    expect((await http('GET', ${url('/records/${randomUUID()}')})).status).toBe(404);
  });`);
  } else if (s.rpcs.length === 0) {
    cases.push(`  it('says who it is over HTTP', async () => {
    const res = await http('GET', ${url('')});

    expect(res).toMatchObject({ status: 200, body: { service: '${s.name}' } });
  });`);
  }
  return cases;
}
