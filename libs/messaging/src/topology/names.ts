/**
 * Every exchange and queue name the system uses. Apps never spell these out;
 * docs/messaging.md documents them for non-Nest clients.
 */
export const EVENTS_EXCHANGE = 'events';

/** `inventory.reserve` is handled by the `inventory` service. */
export function serviceOfRpc(messageName: string): string {
  const dot = messageName.indexOf('.');
  if (dot <= 0) throw new Error(`RPC name "${messageName}" must be "<service>.<verb>"`);
  return messageName.slice(0, dot);
}

export function rpcQueue(service: string): string {
  return `${service}.rpc`;
}

export function eventsQueue(service: string): string {
  return `${service}.events`;
}

/**
 * The service's own direct exchange, routing by queue name to its work, delay and dead-letter
 * queues: retries and dead letters move through it (and DLQ replays come back through it), so
 * no service needs to write to the default exchange, which reaches every queue of the vhost.
 */
export function serviceExchange(service: string): string {
  return `${service}.dlx`;
}

export function deadLetterQueue(service: string): string {
  return `${service}.dlq`;
}

/** Named by delay, so changing a tier's delay declares a new queue instead of clashing. */
export function retryQueue(workQueue: string, delayMs: number): string {
  return `${workQueue}.retry.${formatDelay(delayMs)}`;
}

function formatDelay(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
