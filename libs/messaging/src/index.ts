export * from './constants.js';
export * from './errors.js';
export * from './decorators.js';
export * from './messaging.options.js';
export { MessagingModule } from './messaging.module.js';
export { MESSAGING_OPTIONS } from './messaging.module-definition.js';
export { AmqpConnection, redact } from './connection/amqp-connection.js';
export type { TransportEventsMap, TransportStatus } from './connection/transport-events.js';
export { amqplibSocket, coalesceWrites } from './connection/coalesce-writes.js';
export { MessageContext, type MessageContextData } from './context/message-context.js';
export { AmqpServer, AMQP_TRANSPORT, DuplicateHandlerError } from './transport/amqp.server.js';
export { AmqpClient, type CallOptions, type EventMessage } from './transport/amqp.client.js';
export { AmqpContext } from './transport/amqp.context.js';
export { MessageErrorFilter } from './transport/message-error.filter.js';
export * from './observability/observers.js';
export {
  QueueDepths,
  type QueueDepth,
  type QueueDepthOptions,
} from './observability/queue-depths.js';
export { CircuitBreaker, RpcCircuitOpenError, type CircuitState } from './rpc/circuit-breaker.js';
export * from './topology/names.js';
export {
  declareServiceTopology,
  ensureExchange,
  serviceQueues,
  type ServiceTopology,
} from './topology/declare.js';
export type { RpcReply, RpcErrorBody } from './wire/rpc-reply.js';
export { publishConfirmed } from './wire/confirm.js';
