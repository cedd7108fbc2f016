import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import type { MessageHandler } from '@nestjs/microservices';
import { PATTERN_EXTRAS_METADATA, PATTERN_METADATA } from '@nestjs/microservices/constants.js';
import { defineEvent, type PayloadOf } from '@app/contracts';
import { z } from 'zod';
import { HandleEvent } from '../decorators.js';
import { ContractViolationError } from '../errors.js';
import { HandlerInvoker } from './handler-invoker.js';

const PriceV1 = defineEvent('price.changed', {
  owner: 'price',
  version: 1,
  description: 'v1: amount in euros',
  payload: z.object({ sku: z.string(), amount: z.number() }),
});
const PriceV2 = defineEvent('price.changed', {
  owner: 'price',
  version: 2,
  description: 'v2: amount in cents',
  payload: z.object({ sku: z.string(), amountCents: z.number().int() }),
});

class Consumer {
  @HandleEvent(PriceV1)
  onlyV1(_event: PayloadOf<typeof PriceV1>) {}

  @HandleEvent([PriceV2, PriceV1])
  both(_event: PayloadOf<typeof PriceV1> | PayloadOf<typeof PriceV2>) {}
}

/** The handler Nest registers for a decorated method: the method plus its pattern's extras. */
function handlerOf(method: keyof Consumer): MessageHandler {
  const fn = Consumer.prototype[method];
  const extras = Reflect.getMetadata(PATTERN_EXTRAS_METADATA, fn) as Record<string, unknown>;
  return Object.assign(async () => undefined, { extras }) as unknown as MessageHandler;
}

const invoker = new HandlerInvoker({ immediate: 0, delaysMs: [] }, (handler, payload, ctx) =>
  Promise.resolve(handler(payload, ctx)),
);
const v1Body = { sku: 'MUG-1', amount: 9.5 };
const v2Body = { sku: 'MUG-1', amountCents: 950 };

describe('HandleEvent with several versions', () => {
  it('subscribes once, to the name all versions share', () => {
    expect(Reflect.getMetadata(PATTERN_METADATA, Consumer.prototype.both)).toEqual([
      'price.changed',
    ]);
  });

  it('refuses versions of different messages when the class is declared', () => {
    const Other = defineEvent('price.dropped', {
      owner: 'price',
      version: 2,
      description: 'x',
      payload: z.object({}),
    });

    expect(() => HandleEvent([PriceV1, Other])).toThrow(/one message/);
  });
});

describe('HandlerInvoker.validate', () => {
  it('reads each message with the contract of its x-message-version', () => {
    const both = handlerOf('both');

    expect(invoker.validate(both, 'price.changed', { ...v1Body, extra: 1 }, 1)).toEqual(v1Body);
    expect(invoker.validate(both, 'price.changed', v2Body, 2)).toEqual(v2Body);
  });

  it('rejects a v1 body sent as v2, naming the missing field', () => {
    expect(() => invoker.validate(handlerOf('both'), 'price.changed', v1Body, 2)).toThrow(
      /price.changed failed validation: amountCents/,
    );
  });

  it('lets a v1-only consumer read a v2 message that still carries the v1 fields', () => {
    const expanded = { ...v1Body, amountCents: 950 };

    expect(invoker.validate(handlerOf('onlyV1'), 'price.changed', expanded, 2)).toEqual(v1Body);
  });

  it('dead-letters a v2 message a v1-only consumer cannot read, saying which versions met', () => {
    const read = () => invoker.validate(handlerOf('onlyV1'), 'price.changed', v2Body, 2);

    expect(read).toThrow(ContractViolationError);
    expect(read).toThrow(/price.changed v2 \(read as v1\) failed validation: amount/);
  });

  it('reads a message without a version header with the oldest accepted version', () => {
    expect(invoker.validate(handlerOf('both'), 'price.changed', v1Body, undefined)).toEqual(v1Body);
  });

  it('passes the body through for a handler without a contract', () => {
    const plain = Object.assign(async () => undefined, {}) as unknown as MessageHandler;

    expect(invoker.validate(plain, 'x.y', { any: 'thing' }, 3)).toEqual({ any: 'thing' });
  });
});
