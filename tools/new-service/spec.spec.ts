import { describe, expect, it } from '@jest/globals';
import { contractConstant, contractFile, nameProblems } from './names.js';
import { buildSpec, type Facts, type Request } from './spec.js';

const facts: Facts = {
  contracts: [
    { name: 'order.confirmed', kind: 'event', version: 1, constant: 'OrderConfirmed' },
    { name: 'inventory.reserve', kind: 'rpc', version: 1, constant: 'InventoryReserve' },
  ],
  ports: [3001, 3002, 3003],
  schemas: ['orders', 'inventory', 'notification'],
};
const ask = (name: string, more: Partial<Request> = {}): Request => ({
  name,
  rpc: [],
  event: [],
  http: false,
  db: false,
  ...more,
});

describe('service names', () => {
  it.each(['payment', 'gift-card', 'ab'])('accepts %s', (name) => {
    expect(nameProblems(name)).toEqual([]);
  });

  it.each([
    ['Payment', /kebab-case/],
    ['pay_ment', /kebab-case/],
    ['payment2', /kebab-case/],
    ['-payment', /kebab-case/],
    ['gift--card', /kebab-case/],
    ['', /kebab-case/],
    ['test', /reserved in this repository/],
    ['libs', /reserved in this repository/],
    ['rabbitmq', /reserved in this repository/],
    ['amq', /reserved in this repository/],
    ['user', /SQL reserved word/],
    ['order', /SQL reserved word/],
    ['pg-stats', /PostgreSQL's own/],
    ['a'.repeat(31), /longer than 30/],
  ])('refuses %j', (name, why) => {
    expect(nameProblems(name).join()).toMatch(why);
  });

  it('spells message names as contract constants and files', () => {
    expect(contractConstant('inventory.stock-low')).toBe('InventoryStockLow');
    expect(contractConstant('gift-card.redeem')).toBe('GiftCardRedeem');
    expect(contractFile('gift-card.redeem', 'rpc')).toBe('gift-card-redeem.rpc.ts');
  });
});

describe('buildSpec', () => {
  it('spells every name of a kebab-case service and takes the next free port', () => {
    const { spec } = buildSpec(ask('gift-card', { rpc: ['gift-card.redeem'] }), facts);

    expect(spec).toMatchObject({
      camel: 'giftCard',
      pascal: 'GiftCard',
      schema: 'gift_card',
      errorPrefix: 'GIFT_CARD',
      port: 3004,
      db: false,
      rpcs: [{ name: 'gift-card.redeem', method: 'redeem', constant: 'GiftCardRedeem' }],
    });
  });

  it('consumes an existing event with its contract, and creates a new own one', () => {
    const { spec } = buildSpec(
      ask('payment', { event: ['order.confirmed', 'payment.settled'] }),
      facts,
    );

    expect(spec?.events).toEqual([
      expect.objectContaining({
        constant: 'OrderConfirmed',
        isNew: false,
        handler: 'onOrderConfirmed',
      }),
      expect.objectContaining({
        constant: 'PaymentSettled',
        isNew: true,
        file: 'payment-settled.event.ts',
      }),
    ]);
    expect(spec?.db).toBe(true);
  });

  it('reports every problem of a request at once', () => {
    const { spec, problems } = buildSpec(
      ask('payment', {
        rpc: ['order.pay', 'payment.list-records', 'payment.authorize', 'payment.authorize'],
        event: ['inventory.reserve', 'order.shipped', 'payment.Refunded'],
        port: '3002',
      }),
      facts,
    );

    expect(spec).toBeUndefined();
    expect(problems).toEqual([
      '--rpc payment.authorize is given twice',
      '--rpc order.pay: an RPC is named after the service that answers it: payment.<verb>',
      '--rpc payment.list-records: pick another verb than "list-records"',
      '--event inventory.reserve: that is an RPC, not an event (use --rpc for RPCs)',
      '--event order.shipped: no such event in libs/contracts, and a new one is named by its service: payment.<something>',
      '--event payment.Refunded: no such event in libs/contracts, and a new one is named by its service: payment.<something>',
      '--port 3002: another service uses it',
    ]);
  });

  it('refuses a verb that would clash with what the generated service holds', () => {
    const verbs = ['records', 'unit-of-work', 'outbox'];

    expect(
      buildSpec(ask('payment', { rpc: verbs.map((v) => `payment.${v}`) }), facts).problems,
    ).toEqual(verbs.map((v) => `--rpc payment.${v}: pick another verb than "${v}"`));
  });

  it('refuses an RPC whose contract exists already, and a schema another service owns', () => {
    expect(buildSpec(ask('inventory', { rpc: ['inventory.reserve'] }), facts).problems).toEqual([
      '--rpc inventory.reserve: a contract of that name exists already',
      'schema "inventory" belongs to another service already',
    ]);
  });

  it.each(['80', 'x', '70000'])('refuses --port %s', (port) => {
    expect(buildSpec(ask('payment', { port }), facts).problems).toEqual([
      `--port ${port}: use a port between 1024 and 65535`,
    ]);
  });

  it('asks for a name', () => {
    expect(buildSpec({ rpc: [], event: [], http: false, db: false }, facts).problems).toEqual([
      'name the service: npm run new:service -- <name>',
    ]);
  });
});
