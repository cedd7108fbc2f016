/** The body of every RPC reply (docs/messaging.md, "RPC"). */
export interface RpcErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export type RpcReply<T = unknown> = { ok: true; data: T } | { ok: false; error: RpcErrorBody };

export function isRpcReply(value: unknown): value is RpcReply {
  if (typeof value !== 'object' || value === null) return false;
  const reply = value as Record<string, unknown>;
  if (reply.ok === true) return 'data' in reply;
  if (reply.ok !== false || typeof reply.error !== 'object' || reply.error === null) return false;
  const error = reply.error as Record<string, unknown>;
  return typeof error.code === 'string' && typeof error.message === 'string';
}
