import 'reflect-metadata';
import { runService } from '@app/platform';
import { inventoryService } from './inventory-app.module.js';

await runService(inventoryService);
