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
    {
      provide: AmqpClient,
      useFactory: (connection: AmqpConnection, options: ResolvedMessagingOptions) =>
        new AmqpClient(connection, options),
      inject: [AmqpConnection, MESSAGING_OPTIONS],
    },
    {
      provide: AmqpServer,
      useFactory: (connection: AmqpConnection, options: ResolvedMessagingOptions) =>
        new AmqpServer(connection, options),
      inject: [AmqpConnection, MESSAGING_OPTIONS],
    },
  ],
  exports: [MESSAGING_OPTIONS, AmqpConnection, AmqpClient, AmqpServer],
})
export class MessagingModule extends ConfigurableModuleClass {}
