export * from './dead-letters.js';
