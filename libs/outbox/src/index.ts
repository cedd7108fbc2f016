export { claimMessage } from './inbox.js';
export { Outbox } from './outbox.js';
export { OutboxModule, type OutboxModuleOptions } from './outbox.module.js';
export {
  createInboxTable,
  createOutboxTable,
  outboxHeadersMigration,
} from './outbox.migrations.js';
export { OUTBOX_PUBLISHER, type OutboxPublisher, type StoredEvent } from './outbox-publisher.js';
export { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
