import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { Database, UnitOfWork } from '@app/database';
import { Outbox } from './outbox.js';
import { OUTBOX_PUBLISHER, type OutboxPublisher } from './outbox-publisher.js';
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';

export interface OutboxModuleOptions extends OutboxRelayOptions {
  /** Provides the `OutboxPublisher` (OUTBOX_PUBLISHER); usually the service's transport. */
  publisher: Provider<OutboxPublisher>;
}

/** `Outbox` (write events in a transaction) and its `OutboxRelay` (publish them). */
@Module({})
export class OutboxModule {
  static forRoot(options: OutboxModuleOptions): DynamicModule {
    const { publisher, ...relayOptions } = options;
    return {
      module: OutboxModule,
      global: true,
      providers: [
        publisher,
        {
          provide: OutboxRelay,
          useFactory: (uow: UnitOfWork, db: Database, p: OutboxPublisher) =>
            new OutboxRelay(uow, db, p, relayOptions),
          inject: [UnitOfWork, Database, OUTBOX_PUBLISHER],
        },
        {
          provide: Outbox,
          useFactory: (db: Database, p: OutboxPublisher, relay: OutboxRelay) =>
            new Outbox(db, p, relay),
          inject: [Database, OUTBOX_PUBLISHER, OutboxRelay],
        },
      ],
      exports: [Outbox, OutboxRelay],
    };
  }
}
