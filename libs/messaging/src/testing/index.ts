export { waitFor } from './wait-for.js';
export { RabbitAdmin, withVhost, type QueueInfo } from './rabbit-admin.js';
export { EventProbe, type CapturedMessage } from './event-probe.js';
export { TcpProxy } from './tcp-proxy.js';
export { deadLetteredCopy } from './dead-lettered.js';
