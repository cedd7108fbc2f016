import type { ServiceSpec } from '../spec.js';

const contractImports = (names: readonly string[], types: readonly string[] = []) =>
  names.length + types.length > 0
    ? `import { ${[...new Set(names)].join(', ')}${names.length && types.length ? ', ' : ''}${types.map((t) => `type ${t}`).join(', ')} } from '@app/contracts';`
    : '';

/** The use cases: a sample per RPC, and records (with --db) that events and HTTP read. */
export function serviceFile(s: ServiceSpec): string {
  const rpcMethods = s.rpcs.map((r) =>
    s.db
      ? `  /** ${r.name} (sample): idempotent by id, a repeat gets the first answer, stored with it. */
  async ${r.method}(request: RequestOf<typeof ${r.constant}>): Promise<ResponseOf<typeof ${r.constant}>> {
    const answer: ResponseOf<typeof ${r.constant}> = { id: request.id, status: 'ACCEPTED', acceptedAt: new Date().toISOString() };
    const stored = await this.unitOfWork.run((tx) => this.records.addOnce(tx, ${r.constant}.name, request.id, answer));
    return stored.data as ResponseOf<typeof ${r.constant}>;
  }`
      : `  /** ${r.name} (sample): accepts every request. */
  ${r.method}(request: RequestOf<typeof ${r.constant}>): ResponseOf<typeof ${r.constant}> {
    return { id: request.id, status: 'ACCEPTED', acceptedAt: new Date().toISOString() };
  }`,
  );
  const recordMethods = s.db
    ? [
        ...(s.events.length > 0
          ? [
              `  /**
   * Records an event once: the inbox claim and the record commit in one unit of work, so a
   * redelivered event changes nothing. Events it adds with \`this.outbox.add(tx, Contract,
   * payload)\` commit with it, and the outbox relay publishes them once it has committed.
   */
  recordEvent(messageId: string, type: string, payload: unknown): Promise<void> {
    return this.unitOfWork.run(async (tx) => {
      if (!(await claimMessage(tx, INBOX, messageId))) return;
      this.records.add(tx, type, messageId, payload);
    });
  }`,
            ]
          : []),
        `  listRecords(filter: { type?: string; limit: number }): Promise<${s.pascal}Record[]> {
    return this.records.list(filter);
  }`,
        `  async findRecord(id: string): Promise<${s.pascal}Record> {
    const record = await this.records.find(id);
    if (!record) throw new RecordNotFoundError(id);
    return record;
  }`,
      ]
    : [];
  const about =
    !s.db && s.rpcs.length === 0
      ? [`  about(): { service: string } {\n    return { service: '${s.name}' };\n  }`]
      : [];
  const writes = s.db && s.rpcs.length + s.events.length > 0;
  const imports = [
    `import { Injectable } from '@nestjs/common';`,
    contractImports(s.db ? s.rpcs.map((r) => r.constant) : [], [
      ...(s.db ? [] : s.rpcs.map((r) => r.constant)),
      ...(s.rpcs.length ? ['RequestOf', 'ResponseOf'] : []),
    ]),
    writes ? `import { UnitOfWork } from '@app/database';` : '',
    s.db && s.events.length > 0 ? `import { claimMessage, Outbox } from '@app/outbox';` : '',
    s.db
      ? `import { type ${s.pascal}Record, ${s.pascal}Repository } from './${s.name}.repository.js';`
      : '',
  ];
  const dbTypes = s.db
    ? `
export type { ${s.pascal}Record };

/** A domain error: its stable code is mapped to HTTP 404 in ${s.name}-app.module.ts. */
export class RecordNotFoundError extends Error {
  readonly code = '${s.errorPrefix}.RECORD_NOT_FOUND';
  constructor(id: string) {
    super(\`No record \${id}\`);
  }
}
${s.events.length > 0 ? `\n/** Inbox consumer name: every consumer of an event deduplicates on its own. */\nconst INBOX = '${s.name}';\n` : ''}`
    : '';
  const constructorParams = s.db
    ? [
        ...(writes ? ['private readonly unitOfWork: UnitOfWork'] : []),
        `private readonly records: ${s.pascal}Repository`,
        ...(s.events.length ? ['private readonly outbox: Outbox'] : []),
      ]
    : [];
  return `${imports.filter(Boolean).join('\n')}
${dbTypes}
${writes ? '/** The use cases: each change in one unit of work. */\n' : ''}@Injectable()
export class ${s.pascal}Service {
  ${constructorParams.length ? `constructor(${constructorParams.join(', ')}) {}\n` : ''}
${[...rpcMethods, ...recordMethods, ...about].join('\n\n')}
}
`;
}

export function rpcControllerFile(s: ServiceSpec): string {
  return `import { Controller } from '@nestjs/common';
${contractImports(
  s.rpcs.map((r) => r.constant),
  ['RequestOf'],
)}
import { HandleRpc } from '@app/messaging';
import { ${s.pascal}Service } from './${s.name}.service.js';

/** Message adapter: validation, acks and error replies belong to @app/messaging. */
@Controller()
export class ${s.pascal}RpcController {
  constructor(private readonly ${s.camel}: ${s.pascal}Service) {}
${s.rpcs
  .map(
    (r) => `
  @HandleRpc(${r.constant})
  ${r.method}(request: RequestOf<typeof ${r.constant}>) {
    return this.${s.camel}.${r.method}(request);
  }`,
  )
  .join('\n')}
}
`;
}

export function eventsControllerFile(s: ServiceSpec): string {
  return `import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
${contractImports(
  s.events.map((e) => e.constant),
  ['PayloadOf'],
)}
import { AmqpContext, HandleEvent } from '@app/messaging';
import { ${s.pascal}Service } from './${s.name}.service.js';

/**
 * Message adapter. A handler that throws is retried (the service's RETRY_* policy, or its own:
 * \`@HandleEvent(Contract, { retry: { immediate: 1, delaysMs: [5_000, 60_000] } })\`), then
 * dead-lettered; one that throws PermanentError is dead-lettered at once.
 */
@Controller()
export class ${s.pascal}EventsController {
  constructor(private readonly ${s.camel}: ${s.pascal}Service) {}
${s.events
  .map(
    (e) => `
  @HandleEvent(${e.constant})
  ${e.handler}(@Payload() event: PayloadOf<typeof ${e.constant}>, @Ctx() ctx: AmqpContext) {
    return this.${s.camel}.recordEvent(ctx.messageId, ${e.constant}.name, event);
  }`,
  )
  .join('\n')}
}
`;
}
