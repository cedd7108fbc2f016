import { Controller, Injectable, type INestApplication } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { defineEvent, defineRpc, type PayloadOf, type RequestOf } from '@app/contracts';
import { AmqpContext, HandleEvent, HandleRpc, type MessagingModuleOptions } from '@app/messaging';
import { z } from 'zod';
import { startMessagingTestApp } from './messaging-test-app.js';

/**
 * Two versions of an event and of an RPC, as docs/contracts.md describes a breaking change:
 * v1 has a price in euros, v2 in cents with a currency. During the rollout (the "expand"
 * phase) v2 producers still fill v1's `amount`, so consumers not yet upgraded keep working.
 */
export const PriceChangedV1 = defineEvent('catalog.price-changed', {
  owner: 'catalog',
  version: 1,
  description: 'A price changed (euros).',
  payload: z.object({ sku: z.string(), amount: z.number() }),
});

export const PriceChangedV2 = defineEvent('catalog.price-changed', {
  owner: 'catalog',
  version: 2,
  description: 'A price changed (cents, with a currency).',
  payload: z.object({
    sku: z.string(),
    amountCents: z.number().int(),
    currency: z.enum(['EUR', 'USD']),
    /** @deprecated v1's field, filled while v1 consumers remain; dropped afterwards. */
    amount: z.number().optional(),
  }),
});

export const QuoteV1 = defineRpc('pricing.quote', {
  owner: 'pricing',
  callers: ['caller'],
  version: 1,
  description: 'The price of a SKU (euros).',
  request: z.object({ sku: z.string() }),
  response: z.object({ sku: z.string(), amount: z.number() }),
});

export const QuoteV2 = defineRpc('pricing.quote', {
  owner: 'pricing',
  callers: ['caller'],
  version: 2,
  description: 'The price of a SKU in a currency (cents).',
  request: z.object({ sku: z.string(), currency: z.enum(['EUR', 'USD']) }),
  response: z.object({ sku: z.string(), amountCents: z.number().int(), currency: z.string() }),
});

const PRICE_CENTS = 1_250;

/** What a consumer saw: the version header and the payload as its handler received it. */
@Injectable()
export class Received {
  readonly events: { version: number | undefined; payload: unknown }[] = [];
}

/** The consumer as first deployed: it knows v1 only. */
@Controller()
class PricingV1Controller {
  constructor(private readonly received: Received) {}

  @HandleEvent(PriceChangedV1)
  onPriceChanged(@Payload() event: PayloadOf<typeof PriceChangedV1>, @Ctx() ctx: AmqpContext) {
    this.received.events.push({ version: ctx.meta.version, payload: event });
  }

  @HandleRpc(QuoteV1)
  quote(request: RequestOf<typeof QuoteV1>) {
    return { sku: request.sku, amount: PRICE_CENTS / 100 };
  }
}

/** The consumer upgraded for the rollout: it accepts v1 and v2 of both messages. */
@Controller()
class PricingV2Controller {
  constructor(private readonly received: Received) {}

  @HandleEvent([PriceChangedV1, PriceChangedV2])
  onPriceChanged(
    @Payload() event: PayloadOf<typeof PriceChangedV1> | PayloadOf<typeof PriceChangedV2>,
    @Ctx() ctx: AmqpContext,
  ) {
    this.received.events.push({ version: ctx.meta.version, payload: event });
  }

  @HandleRpc([QuoteV1, QuoteV2])
  quote(request: RequestOf<typeof QuoteV1> | RequestOf<typeof QuoteV2>) {
    // A v1 request was parsed by the v1 schema, which strips fields it does not know.
    return 'currency' in request
      ? { sku: request.sku, amountCents: PRICE_CENTS, currency: request.currency }
      : { sku: request.sku, amount: PRICE_CENTS / 100 };
  }
}

/** A consumer service of the given generation, wired exactly as the apps wire theirs. */
export function startPricingApp(
  generation: 1 | 2,
  options: MessagingModuleOptions,
): Promise<INestApplication> {
  return startMessagingTestApp(
    options,
    [generation === 1 ? PricingV1Controller : PricingV2Controller],
    [Received],
  );
}
