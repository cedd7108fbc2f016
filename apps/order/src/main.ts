import 'reflect-metadata';
import { runService } from '@app/platform';
import { orderService } from './order-app.module.js';

await runService(orderService);
