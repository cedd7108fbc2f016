import {
  allContracts,
  type EventContract,
  type MessageContract,
  type RpcContract,
} from '@app/contracts';
import {
  deadLetterQueue,
  DIRECT_REPLY_TO,
  EVENTS_EXCHANGE,
  eventsQueue,
  HeaderNames,
  rpcQueue,
} from '@app/messaging';
import { z } from 'zod';
import type { ServiceMessaging } from './discover.js';
import { components } from './components.js';

type Json = Record<string, unknown>;

const AMQP = '0.3.0';
/**
 * The vhost of a local broker, which the bindings name; the compose stack uses `shop` (the
 * `compose` server below), and a vhost is whatever the path of RABBITMQ_URL says.
 */
const VHOST = '/';
const ref = (path: string) => ({ $ref: `#/${path}` });
const exchange = {
  name: EVENTS_EXCHANGE,
  type: 'topic',
  durable: true,
  autoDelete: false,
  vhost: VHOST,
};
const queueBinding = (name: string) => ({
  amqp: {
    is: 'queue',
    queue: { name, durable: true, exclusive: false, autoDelete: false, vhost: VHOST },
    bindingVersion: AMQP,
  },
});

/** The body's JSON schema as consumers read it: zod's input side, unknown fields allowed. */
export function payloadSchema(schema: z.ZodType): Json {
  const { $schema: _, ...json } = z.toJSONSchema(schema, {
    target: 'draft-7',
    io: 'input',
    unrepresentable: 'any',
  }) as Json;
  return json;
}

/** `order.created.v1`: a message of one version. */
export const messageId = (c: MessageContract) => `${c.name}.v${c.version}`;
export const replyId = (c: RpcContract) => `${c.name}.reply.v${c.version}`;

function message(c: MessageContract): Json {
  const rpc = c.kind === 'rpc';
  return {
    name: c.name,
    title: `${c.name} v${c.version}`,
    summary: c.description,
    contentType: 'application/json',
    'x-message-version': c.version,
    headers: {
      allOf: [
        ref(`components/schemas/${rpc ? 'RpcRequestHeaders' : 'EventHeaders'}`),
        { properties: { [HeaderNames.version]: { const: c.version } } },
      ],
    },
    'x-amqp-properties': ref(
      `components/schemas/${rpc ? 'RpcRequestProperties' : 'EventProperties'}`,
    ),
    correlationId: ref(`components/correlationIds/${rpc ? 'rpcCall' : 'request'}`),
    payload: payloadSchema(rpc ? c.request : c.payload),
    ...(c.example !== undefined && {
      examples: [{ name: 'example', payload: rpc ? c.example.request : c.example }],
    }),
    bindings: { amqp: { messageType: c.name, bindingVersion: AMQP } },
  };
}

function reply(c: RpcContract): Json {
  return {
    name: `${c.name}.reply`,
    title: `${c.name} reply v${c.version}`,
    summary: `The reply to ${c.name}: { ok: true, data } or { ok: false, error }.`,
    contentType: 'application/json',
    'x-message-version': c.version,
    'x-amqp-properties': ref('components/schemas/RpcReplyProperties'),
    correlationId: ref('components/correlationIds/rpcCall'),
    payload: {
      oneOf: [
        {
          type: 'object',
          properties: { ok: { const: true }, data: payloadSchema(c.response) },
          required: ['ok', 'data'],
        },
        ref('components/schemas/RpcErrorReply'),
      ],
    },
    ...(c.example !== undefined && {
      examples: [{ name: 'example', payload: { ok: true, data: c.example.response } }],
    }),
  };
}

const msgRefs = (ids: string[]) =>
  Object.fromEntries(ids.map((id) => [id, ref(`components/messages/${id}`)]));
const channelMsgs = (channel: string, ids: string[]) =>
  ids.map((id) => ref(`channels/${channel}/messages/${id}`));

/**
 * The AsyncAPI 3.0 document of the system: every contract of libs/contracts as a message per
 * version, the `events` exchange per routing key, each service's queues (from its handlers),
 * the RPC request/reply pair and the dead-letter queues.
 */
export function buildAsyncApi(
  services: ServiceMessaging[],
  contracts: readonly MessageContract[] = allContracts,
): Json {
  const events = contracts.filter((c): c is EventContract => c.kind === 'event');
  const rpcs = contracts.filter((c): c is RpcContract => c.kind === 'rpc');
  const names = <C extends MessageContract>(list: C[]) => [...new Set(list.map((c) => c.name))];
  const channels: Json = {};
  const operations: Json = {};

  for (const name of names(events)) {
    const versions = events.filter((c) => c.name === name).map(messageId);
    const producer = name.split('.')[0]!;
    channels[name] = {
      address: name,
      title: `${EVENTS_EXCHANGE} → ${name}`,
      description: `Topic exchange \`${EVENTS_EXCHANGE}\`, routing key \`${name}\`. Published by ${producer} through its outbox, persistent, with publisher confirms.`,
      messages: msgRefs(versions),
      bindings: { amqp: { is: 'routingKey', exchange, bindingVersion: AMQP } },
    };
    operations[`${producer}.publish.${name}`] = {
      action: 'send',
      channel: ref(`channels/${name}`),
      summary: `${producer} publishes ${name}.`,
      messages: channelMsgs(name, versions),
      bindings: {
        amqp: { deliveryMode: 2, mandatory: false, timestamp: true, bindingVersion: AMQP },
      },
    };
  }

  channels['rpc.reply'] = {
    address: null,
    title: 'RPC replies',
    description: `The caller's \`reply_to\`: \`${DIRECT_REPLY_TO}\` (direct reply-to) or a queue of its own.`,
    messages: msgRefs(rpcs.map(replyId)),
  };

  for (const { service, answers, consumes } of services) {
    if (answers.length > 0) {
      const queue = rpcQueue(service);
      const accepted = answers.flat();
      channels[queue] = {
        address: queue,
        title: `${service} RPC requests`,
        description: `Durable queue of ${service}'s RPC requests, published to the default exchange with routing key \`${queue}\`. Not dead-lettered: an expired request is dropped (its caller gave up); a failed one gets an error reply.`,
        messages: msgRefs(accepted.map(messageId)),
        bindings: queueBinding(queue),
      };
      for (const versions of answers) {
        const name = versions[0]!.name;
        const reply = {
          address: { location: '$message.header#/reply_to', description: 'AMQP property reply_to' },
          channel: ref('channels/rpc.reply'),
          messages: channelMsgs('rpc.reply', versions.map(replyId)),
        };
        const msgs = channelMsgs(queue, versions.map(messageId));
        operations[`${service}.answer.${name}`] = {
          action: 'receive',
          channel: ref(`channels/${queue}`),
          summary: `${service} answers ${name}.`,
          messages: msgs,
          reply,
          bindings: { amqp: { ack: true, bindingVersion: AMQP } },
        };
        operations[`call.${name}`] = {
          action: 'send',
          channel: ref(`channels/${queue}`),
          summary: `Any service calls ${name} (order does), with a timeout it sets as expiration.`,
          messages: msgs,
          reply,
          bindings: {
            amqp: {
              expiration: 5000,
              deliveryMode: 1,
              mandatory: true,
              timestamp: true,
              bindingVersion: AMQP,
            },
          },
        };
      }
    }
    if (consumes.length > 0) {
      const queue = eventsQueue(service);
      const accepted = consumes.flat();
      channels[queue] = {
        address: queue,
        title: `${service} events`,
        description: `Durable queue of ${service}, bound to \`${EVENTS_EXCHANGE}\` with ${consumes.map((v) => `\`${v[0]!.name}\``).join(', ')}. Replicas of ${service} compete for its messages. Failed messages are retried through \`${queue}.retry.<delay>\` queues (x-message-ttl, dead-lettered back here), then dead-lettered to \`${deadLetterQueue(service)}\`.`,
        messages: msgRefs(accepted.map(messageId)),
        bindings: queueBinding(queue),
      };
      for (const versions of consumes) {
        const name = versions[0]!.name;
        operations[`${service}.consume.${name}`] = {
          action: 'receive',
          channel: ref(`channels/${queue}`),
          summary: `${service} handles ${name}.`,
          messages: channelMsgs(queue, versions.map(messageId)),
          bindings: { amqp: { ack: true, bindingVersion: AMQP } },
        };
      }
      const dlq = deadLetterQueue(service);
      channels[dlq] = {
        address: dlq,
        title: `${service} dead letters`,
        description: `Messages ${service} gave up on, with their body and properties and the headers of components/schemas/DeadLetterHeaders. \`npm run dlq -- list ${service}\` reads them.`,
        messages: msgRefs(accepted.map(messageId)),
        bindings: queueBinding(dlq),
      };
    }
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Shop messaging',
      version: '1.0.0',
      description:
        'Every message the services exchange over RabbitMQ (AMQP 0-9-1). Generated from libs/contracts and the handlers of the apps by `npm run docs:asyncapi`; the prose is docs/messaging.md.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: 'localhost:5672',
        pathname: VHOST,
        protocol: 'amqp',
        protocolVersion: '0.9.1',
        description: `A local broker, vhost \`${VHOST}\` (the one the channel bindings name): RABBITMQ_URL without a path; amqps:// with TLS (RABBITMQ_CA_FILE).`,
      },
      compose: {
        host: 'localhost:5672',
        pathname: '/shop',
        protocol: 'amqp',
        protocolVersion: '0.9.1',
        description:
          'The docker-compose.yml stack: vhost `shop` (every queue and exchange of the bindings lives there instead of `/`), one broker user per service (ops/rabbitmq/definitions.json).',
      },
    },
    channels,
    operations,
    components: {
      messages: {
        ...Object.fromEntries(contracts.map((c) => [messageId(c), message(c)])),
        ...Object.fromEntries(rpcs.map((c) => [replyId(c), reply(c)])),
      },
      ...components,
    },
  };
}
