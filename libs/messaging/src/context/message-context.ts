import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The correlation id of the work in progress (an HTTP request or a consumed message),
 * so every message it causes carries the same `correlation_id` without handlers passing it.
 */
export interface MessageContextData {
  correlationId: string;
  /** Set while a consumed message is handled: its `message_id` and `type` (for log lines). */
  messageId?: string;
  messageType?: string;
}

const storage = new AsyncLocalStorage<MessageContextData>();

export const MessageContext = {
  run<T>(data: MessageContextData, fn: () => T): T {
    return storage.run(data, fn);
  },
  current(): MessageContextData | undefined {
    return storage.getStore();
  },
  correlationId(): string | undefined {
    return storage.getStore()?.correlationId;
  },
};
