import { type DynamicModule, Module } from '@nestjs/common';
import { type ServiceDefinition, ServiceDefaultsModule } from '@app/platform';
import { notificationMigrations } from './migrations/index.js';
import { loadNotificationConfig, type NotificationConfig } from './notification.config.js';
import { EmailSequence } from './notifications/email-sequence.service.js';
import { Mailer } from './notifications/mailer.service.js';
import { NotificationsEventsController } from './notifications/notifications.events.controller.js';
import { NotificationsHttpController } from './notifications/notifications.http.controller.js';
import { NotificationsRepository } from './notifications/notifications.repository.js';
import { NotificationsService } from './notifications/notifications.service.js';

@Module({})
export class NotificationAppModule {
  static forRoot(config: NotificationConfig): DynamicModule {
    return {
      module: NotificationAppModule,
      imports: [ServiceDefaultsModule.forRoot(config, { migrations: notificationMigrations })],
      controllers: [NotificationsHttpController, NotificationsEventsController],
      providers: [Mailer, NotificationsRepository, NotificationsService, EmailSequence],
    };
  }
}

/** How main.ts and the e2e tests build this service. */
export const notificationService: ServiceDefinition<NotificationConfig> = {
  loadConfig: loadNotificationConfig,
  module: (config) => NotificationAppModule.forRoot(config),
};
