// docs/asyncapi.yaml against libs/contracts: fails when a contract changes (name, version,
// schema) and the document does not, or the document names a message no contract defines.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { allContracts, type MessageContract } from '@app/contracts';
import { parse } from 'yaml';
import { z } from 'zod';
import { ASYNCAPI_FILE, renderAsyncApi } from '../../tools/asyncapi.js';
import { composeEnv } from '../deploy/deploy-files.js';

interface Message {
  name: string;
  'x-message-version': number;
  payload: Record<string, any>;
}
const document = parse(readFileSync(ASYNCAPI_FILE, 'utf8')) as {
  asyncapi: string;
  channels: Record<string, { address: string | null; messages: Record<string, unknown> }>;
  servers: Record<string, { pathname?: string }>;
  components: { messages: Record<string, Message> };
};
const messages = Object.values(document.components.messages);
const STALE = 'docs/asyncapi.yaml is stale: run `npm run docs:asyncapi`';

/** What z.toJSONSchema makes of a contract's schema, as JSON (the way YAML holds it). */
function jsonSchema(schema: z.ZodType): unknown {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' });
  return JSON.parse(JSON.stringify(json));
}

function find(name: string, version: number): Message {
  const found = messages.filter((m) => m.name === name && m['x-message-version'] === version);
  if (found.length !== 1) throw new Error(`${STALE}: ${found.length} messages ${name} v${version}`);
  return found[0]!;
}

const label = (c: MessageContract) => `${c.name} v${c.version}`;

describe('docs/asyncapi.yaml', () => {
  it('is an AsyncAPI 3.0 document', () => {
    expect(document.asyncapi).toBe('3.0.0');
  });

  it.each(allContracts.map((c) => [label(c), c] as const))(
    'describes %s with the body schema of its contract',
    (_label, contract) => {
      const message = find(contract.name, contract.version);
      if (contract.kind === 'event') {
        expect(message.payload).toEqual(jsonSchema(contract.payload));
        expect(document.channels[contract.name]?.address).toBe(contract.name);
      } else {
        expect(message.payload).toEqual(jsonSchema(contract.request));
        const reply = find(`${contract.name}.reply`, contract.version);
        const success = reply.payload.oneOf.find(
          (s: { properties?: { ok?: { const?: unknown } } }) => s.properties?.ok?.const === true,
        );
        expect(success.properties.data).toEqual(jsonSchema(contract.response));
      }
    },
  );

  it('describes no message the contracts lack', () => {
    const known = new Set(
      allContracts.flatMap((c) => [
        `${c.name} v${c.version}`,
        ...(c.kind === 'rpc' ? [`${c.name}.reply v${c.version}`] : []),
      ]),
    );
    const extra = messages
      .map((m) => `${m.name} v${m['x-message-version']}`)
      .filter((m) => !known.has(m));

    expect(extra).toEqual([]);
  });

  it('names the vhost of a local broker and of the compose stack', () => {
    expect(document.servers.local?.pathname).toBe('/');
    for (const service of ['order', 'inventory', 'notification'])
      expect(document.servers.compose?.pathname).toBe(
        new URL(composeEnv(service).RABBITMQ_URL ?? '').pathname,
      );
  });

  it('is what `npm run docs:asyncapi` generates from the contracts and the handlers', async () => {
    const generated: unknown = parse(await renderAsyncApi());

    // Compared as data, so the failure shows what differs.
    expect(document).toEqual(generated);
  });
});
