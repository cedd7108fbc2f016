import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MessagingModuleOptions } from './messaging.options.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RAW_MESSAGING_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MessagingModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** The options with every default filled in. */
export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');
