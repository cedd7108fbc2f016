import type { EventSpec, RpcSpec, ServiceSpec } from '../spec.js';

const EXAMPLE_ID = '3e9a1c55-7b2d-4c1e-9f0a-2b3c4d5e6f70';
const EXAMPLE_AT = '2030-01-02T03:04:05.000Z';

/** `libs/contracts/src/<service>/<service>-<verb>.rpc.ts`: a sample request and answer. */
export function rpcContractFile(s: ServiceSpec, r: RpcSpec): string {
  return `import { z } from 'zod';
import { Instant } from '../common.js';
import { defineRpc } from '../define.js';

/** Sample contract of the ${s.name} service: replace the schemas, keep the name and version. */
export const ${r.constant} = defineRpc('${r.name}', {
  version: 1,
  owner: '${s.name}',
  // The services that may call it: ${s.name} refuses (dead-letters) a request from any other.
  callers: ['order'],
  description: 'Accepts a request of ${s.name}; idempotent by id: a repeat gets the first answer.',
  request: z.object({ id: z.uuid() }),
  response: z.object({ id: z.uuid(), status: z.enum(['ACCEPTED']), acceptedAt: Instant }),
  example: {
    request: { id: '${EXAMPLE_ID}' },
    response: { id: '${EXAMPLE_ID}', status: 'ACCEPTED', acceptedAt: '${EXAMPLE_AT}' },
  },
});
`;
}

/** `libs/contracts/src/<service>/<service>-<event>.event.ts`: a sample event. */
export function eventContractFile(s: ServiceSpec, e: EventSpec): string {
  return `import { z } from 'zod';
import { Instant } from '../common.js';
import { defineEvent } from '../define.js';

/** Sample event of the ${s.name} service: replace the payload, keep the name and version. */
export const ${e.constant} = defineEvent('${e.name}', {
  version: 1,
  owner: '${s.name}',
  description: 'Something happened in ${s.name}.',
  payload: z.object({ id: z.uuid(), occurredAt: Instant }),
  example: { id: '${EXAMPLE_ID}', occurredAt: '${EXAMPLE_AT}' },
});
`;
}

/** The lines of the namespace's index.ts that export the new contract files. */
export function namespaceExports(s: ServiceSpec): string[] {
  return [...s.rpcs.map((r) => r.file), ...s.events.filter((e) => e.isNew).map((e) => e.file)].map(
    (file) => `export * from './${file.replace(/\.ts$/, '.js')}';`,
  );
}

export function contractsSpecFile(s: ServiceSpec): string {
  const created = [
    ...s.rpcs.map((r) => ({ constant: r.constant, schema: 'request', example: '.request' })),
    ...s.events
      .filter((e) => e.isNew)
      .map((e) => ({ constant: e.constant, schema: 'payload', example: '' })),
  ];
  return `import { describe, expect, it } from '@jest/globals';
import { allContracts, ${created.map((c) => c.constant).join(', ')} } from '../index.js';

describe('${s.name} contracts', () => {
  it.each([${created.map((c) => c.constant).join(', ')}])('$name is in the registry', (contract) => {
    expect(allContracts).toContain(contract);
  });
${created
  .map(
    (c) => `
  it('${c.constant} accepts its example and refuses an id that is not a uuid', () => {
    const example = ${c.constant}.example!${c.example};

    expect(${c.constant}.${c.schema}.parse(example)).toEqual(example);
    expect(${c.constant}.${c.schema}.safeParse({ ...example, id: 'nope' }).success).toBe(false);
  });`,
  )
  .join('\n')}
});
`;
}
