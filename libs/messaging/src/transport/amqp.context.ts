import { BaseRpcContext } from '@nestjs/microservices';
import type { Channel, ConsumeMessage } from 'amqplib';
import { PermanentError } from '../errors.js';
import type { IncomingMeta } from '../wire/properties.js';

type AmqpContextArgs = [message: ConsumeMessage, channel: Channel, meta: IncomingMeta];

/** What `@Ctx()` gives a handler: the raw delivery and its parsed metadata. Never ack here. */
export class AmqpContext extends BaseRpcContext<AmqpContextArgs> {
  getMessage(): ConsumeMessage {
    return this.args[0];
  }

  getChannel(): Channel {
    return this.args[1];
  }

  get meta(): IncomingMeta {
    return this.args[2];
  }

  /** The AMQP `message_id`: the key consumers deduplicate by (inbox). */
  get messageId(): string {
    const id = this.args[2].messageId;
    if (!id)
      throw new PermanentError('message has no message_id to deduplicate by', 'MISSING_MESSAGE_ID');
    return id;
  }

  get correlationId(): string | undefined {
    return this.args[2].correlationId;
  }
}
