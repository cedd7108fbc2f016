import 'reflect-metadata';
import { runService } from '@app/platform';
import { notificationService } from './notification-app.module.js';

await runService(notificationService);
