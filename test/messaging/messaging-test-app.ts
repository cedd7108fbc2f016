import type { INestApplication, Provider, Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { AmqpServer, MessagingModule, type MessagingModuleOptions } from '@app/messaging';
import { DomainErrorFilter } from '@app/platform';

/**
 * A throw-away service with these message controllers, wired exactly as the apps wire theirs:
 * the same module, global filter and transport strategy (libs/platform bootstrap).
 */
export async function startMessagingTestApp(
  options: MessagingModuleOptions,
  controllers: Type[],
  providers: Provider[] = [],
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [MessagingModule.forRoot({ ...options, isGlobal: true })],
    controllers,
    providers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  app.useGlobalFilters(new DomainErrorFilter({}, app.get(HttpAdapterHost).httpAdapter));
  app.connectMicroservice({ strategy: app.get(AmqpServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.init();
  return app;
}
