import type { EventContract, MessageContract, RpcContract } from '@app/contracts';
import type { z } from 'zod';
import { ContractViolationError, RpcError, toFieldIssues } from '../errors.js';

/**
 * The contracts Nest's untyped `send(pattern, data)` / `emit(pattern, data)` go by: the
 * newest version of each name (the one this code was built to speak), its schema checked on
 * the way out as `publishEvent` checks it, and, for RPCs, on the reply as `request` does.
 */
export class KnownContracts {
  private readonly rpcs = new Map<string, RpcContract>();
  private readonly events = new Map<string, EventContract>();

  constructor(contracts: readonly MessageContract[]) {
    for (const contract of contracts) {
      const byName: Map<string, MessageContract> =
        contract.kind === 'rpc' ? this.rpcs : this.events;
      const known = byName.get(contract.name);
      if (!known || known.version < contract.version) byName.set(contract.name, contract);
    }
  }

  rpc(name: string): RpcContract {
    const contract = this.rpcs.get(name);
    if (!contract) throw unknown('RPC', name);
    return contract;
  }

  event(name: string): EventContract {
    const contract = this.events.get(name);
    if (!contract) throw unknown('event', name);
    return contract;
  }
}

/** The value as `schema` parses it, or a ContractViolationError naming the message. */
export function checked(contract: MessageContract, schema: z.ZodType, value: unknown): unknown {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ContractViolationError(contract.name, toFieldIssues(result.error));
}

function unknown(kind: string, name: string): RpcError {
  return new RpcError(
    'UNKNOWN_MESSAGE',
    `no ${kind} contract named "${name}": send() and emit() take the version and schema from @app/contracts (or the messaging options' contracts)`,
  );
}
