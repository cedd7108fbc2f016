import { Controller, Injectable, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { defineEvent, defineRpc, type PayloadOf, type RequestOf } from '@app/contracts';
import {
  AmqpClient,
  AmqpConnection,
  AmqpContext,
  HandleEvent,
  HandleRpc,
  PermanentError,
  type MessagingModuleOptions,
  resolveMessagingOptions,
  type TransportStatus,
} from '@app/messaging';
import { z } from 'zod';
import { startMessagingTestApp } from './messaging-test-app.js';

/** Contracts of a throw-away `probe` service that exercises every path of the transport. */
export const ProbeEcho = defineRpc('probe.echo', {
  owner: 'probe',
  callers: ['caller'],
  version: 1,
  description: 'Echoes its text.',
  request: z.object({ text: z.string().min(1) }),
  response: z.object({ text: z.string() }),
});

export const ProbeRefuse = defineRpc('probe.refuse', {
  owner: 'probe',
  callers: ['caller'],
  version: 1,
  description: 'Always fails with a domain error.',
  request: z.object({}),
  response: z.object({}),
});

export const ProbeSlow = defineRpc('probe.slow', {
  owner: 'probe',
  callers: ['caller'],
  version: 1,
  description: 'Answers after delayMs.',
  request: z.object({ delayMs: z.number().int() }),
  response: z.object({ done: z.boolean() }),
});

export const ProbeHeaders = defineRpc('probe.headers', {
  owner: 'probe',
  callers: ['caller'],
  version: 1,
  description: 'Answers with the AMQP headers its request arrived with.',
  request: z.object({}),
  response: z.record(z.string(), z.unknown()),
});

export const ProbeHappened = defineEvent('probe.happened', {
  owner: 'probe',
  version: 1,
  description: 'Fails `failTimes` times, then succeeds; `permanent` fails for good.',
  payload: z.object({
    id: z.string(),
    failTimes: z.number().int().default(0),
    permanent: z.boolean().default(false),
    holdMs: z.number().int().default(0),
  }),
});

export const ProbeStubborn = defineEvent('probe.stubborn', {
  owner: 'probe',
  version: 1,
  description: 'Always fails; its handler has its own, shorter retry policy.',
  payload: z.object({ id: z.string() }),
});

/** The probe's contracts, for a client's `send()` / `emit()` by name. */
export const probeContracts = [
  ProbeEcho,
  ProbeRefuse,
  ProbeSlow,
  ProbeHeaders,
  ProbeHappened,
  ProbeStubborn,
];

/** What the handlers saw, for assertions. */
@Injectable()
export class Recorder {
  readonly attempts = new Map<string, number>();
  /** When each try of an event started (ms since the epoch). */
  readonly triedAt = new Map<string, number[]>();
  readonly handled: { id: string; attemptsHeader: number; correlationId?: string }[] = [];
  inProgress = 0;
  maxInProgress = 0;
}

class DomainRefusal extends Error {
  readonly code = 'PROBE.REFUSED';
}

@Controller()
class ProbeController {
  constructor(private readonly recorder: Recorder) {}

  @HandleRpc(ProbeEcho)
  echo(request: RequestOf<typeof ProbeEcho>) {
    return { text: request.text };
  }

  @HandleRpc(ProbeRefuse)
  refuse(): { [k: string]: never } {
    throw new DomainRefusal('refused on purpose');
  }

  @HandleRpc(ProbeHeaders)
  headers(@Payload() _request: RequestOf<typeof ProbeHeaders>, @Ctx() ctx: AmqpContext) {
    return ctx.meta.headers;
  }

  @HandleRpc(ProbeSlow)
  async slow(request: RequestOf<typeof ProbeSlow>) {
    await new Promise((r) => setTimeout(r, request.delayMs));
    return { done: true };
  }

  @HandleEvent(ProbeHappened)
  async happened(@Payload() event: PayloadOf<typeof ProbeHappened>, @Ctx() ctx: AmqpContext) {
    const r = this.recorder;
    const attempt = (r.attempts.get(event.id) ?? 0) + 1;
    r.attempts.set(event.id, attempt);
    r.triedAt.set(event.id, [...(r.triedAt.get(event.id) ?? []), Date.now()]);
    r.inProgress++;
    r.maxInProgress = Math.max(r.maxInProgress, r.inProgress);
    try {
      if (event.holdMs > 0) await new Promise((res) => setTimeout(res, event.holdMs));
      if (event.permanent) throw new PermanentError(`event ${event.id} can never succeed`);
      if (attempt <= event.failTimes)
        throw new Error(`transient failure ${attempt} of ${event.id}`);
      r.handled.push({
        id: event.id,
        attemptsHeader: ctx.meta.attempts,
        correlationId: ctx.correlationId,
      });
    } finally {
      r.inProgress--;
    }
  }

  @HandleEvent(ProbeStubborn, { retry: { immediate: 0, delaysMs: [50] } })
  stubborn(@Payload() event: PayloadOf<typeof ProbeStubborn>) {
    this.recorder.attempts.set(event.id, (this.recorder.attempts.get(event.id) ?? 0) + 1);
    throw new Error(`stubborn ${event.id}`);
  }
}

/**
 * Refuses every request, as an HTTP API's global guard (API keys, rate limit) may: messages
 * must never pass through it (connectMessaging), so every message test here proves they don't.
 */
export const RefuseAllGuard = { canActivate: () => false };

/** The probe service, wired exactly as the apps wire theirs (same module, filters and strategy). */
export function startProbeApp(options: MessagingModuleOptions): Promise<INestApplication> {
  return startMessagingTestApp(
    options,
    [ProbeController],
    [Recorder, { provide: APP_GUARD, useValue: RefuseAllGuard }],
  );
}

/** A `caller` client of the probe service on `url`; `close()` ends it and its connection. */
export function startProbeCaller(url: string): { client: AmqpClient; close: () => Promise<void> } {
  const options = resolveMessagingOptions({
    urls: url,
    service: 'caller',
    contracts: probeContracts,
  });
  const connection = new AmqpConnection(options);
  const client = new AmqpClient(connection, options);
  return {
    client,
    close: async () => {
      await client.close();
      await connection.onApplicationShutdown();
    },
  };
}

/** Every status a transport reported, in order (its `status` replays the latest first). */
export function recordStatus(transport: { status: AmqpClient['status'] }): TransportStatus[] {
  const seen: TransportStatus[] = [];
  transport.status.subscribe((s) => seen.push(s));
  return seen;
}
