import { Module } from '@nestjs/common';
import { AmqpConnection } from './connection/amqp-connection.js';
import {
  ConfigurableModuleClass,
  MESSAGING_OPTIONS,
  RAW_MESSAGING_OPTIONS,
} from './messaging.module-definition.js';
import {
  type MessagingModuleOptions,
  resolveMessagingOptions,
  type ResolvedMessagingOptions,
} from './messaging.options.js';
import { MessagingObservers } from './observability/observers.js';
import { AmqpClient } from './transport/amqp.client.js';
import { AmqpServer } from './transport/amqp.server.js';

/**
 * One connection per process, shared by the transport strategy (`AmqpServer`, consumed
 * through `app.connectMicroservice({ strategy })`) and the client (`AmqpClient`).
 */
@Module({
  providers: [
    {
      provide: MESSAGING_OPTIONS,
      useFactory: (raw: MessagingModuleOptions) => resolveMessagingOptions(raw),
      inject: [RAW_MESSAGING_OPTIONS],
    },
    AmqpConnection,
    MessagingObservers,
    {
      provide: AmqpClient,
      useFactory: (c: AmqpConnection, o: ResolvedMessagingOptions, obs: MessagingObservers) =>
        new AmqpClient(c, o, obs),
      inject: [AmqpConnection, MESSAGING_OPTIONS, MessagingObservers],
    },
    {
      provide: AmqpServer,
      useFactory: (c: AmqpConnection, o: ResolvedMessagingOptions, obs: MessagingObservers) =>
        new AmqpServer(c, o, obs),
      inject: [AmqpConnection, MESSAGING_OPTIONS, MessagingObservers],
    },
  ],
  exports: [MESSAGING_OPTIONS, AmqpConnection, AmqpClient, AmqpServer, MessagingObservers],
})
export class MessagingModule extends ConfigurableModuleClass {}
