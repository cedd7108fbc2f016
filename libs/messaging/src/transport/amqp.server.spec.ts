import { Controller } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from '@jest/globals';
import { defineEvent, defineRpc } from '@app/contracts';
import { NEVER } from 'rxjs';
import { z } from 'zod';
import type { AmqpConnection } from '../connection/amqp-connection.js';
import { HandleEvent, HandleRpc } from '../decorators.js';
import { resolveMessagingOptions } from '../messaging.options.js';
import { AmqpServer, DuplicateHandlerError } from './amqp.server.js';

const Happened = defineEvent('dup.happened', {
  owner: 'dup',
  version: 1,
  description: 'An event two controllers both claim.',
  payload: z.object({ id: z.string() }),
});

const Ask = defineRpc('dup.ask', {
  owner: 'dup',
  callers: ['dup'],
  version: 1,
  description: 'An RPC two controllers both claim.',
  request: z.object({}),
  response: z.object({}),
});

@Controller()
class FirstListener {
  @HandleEvent(Happened)
  happened() {}
}

@Controller()
class SecondListener {
  @HandleEvent(Happened)
  happenedToo() {}
}

@Controller()
class FirstResponder {
  @HandleRpc(Ask)
  ask() {
    return {};
  }
}

@Controller()
class SecondResponder {
  @HandleRpc(Ask)
  askToo() {
    return {};
  }
}

/** Registers the controllers' handlers on an AmqpServer, as `app.init()` does; no broker. */
async function registerHandlers(...controllers: (new () => object)[]): Promise<AmqpServer> {
  const connection = { status: NEVER, on() {} } as unknown as AmqpConnection;
  const server = new AmqpServer(
    connection,
    resolveMessagingOptions({ urls: 'amqp://localhost', service: 'dup' }),
  );
  const moduleRef = await Test.createTestingModule({ controllers }).compile();
  const app = moduleRef.createNestMicroservice({ strategy: server, logger: false });
  try {
    await app.init();
  } finally {
    await moduleRef.close();
  }
  return server;
}

describe('AmqpServer handler registration', () => {
  it('refuses a second event handler for one event at start-up instead of chaining both', async () => {
    await expect(registerHandlers(FirstListener, SecondListener)).rejects.toThrow(
      new DuplicateHandlerError('dup.happened', 'dup'),
    );
  });

  it('refuses a second RPC handler for one pattern instead of keeping the last', async () => {
    await expect(registerHandlers(FirstResponder, SecondResponder)).rejects.toThrow(
      DuplicateHandlerError,
    );
  });

  it('takes one handler per pattern', async () => {
    const server = await registerHandlers(FirstListener, FirstResponder);
    expect(server.getHandlerByPattern('dup.happened')?.isEventHandler).toBe(true);
    expect(server.getHandlerByPattern('dup.ask')?.isEventHandler).toBe(false);
  });
});
