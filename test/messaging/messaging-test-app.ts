import type { INestApplication, Provider, Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { MessagingModule, type MessagingModuleOptions } from '@app/messaging';
import { connectMessaging, DomainErrorFilter } from '@app/platform';

/**
 * A throw-away service with these message controllers, wired exactly as the apps wire theirs:
 * the same module, filters and transport strategy (libs/platform bootstrap).
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
  connectMessaging(app);
  await app.startAllMicroservices();
  await app.init();
  return app;
}
