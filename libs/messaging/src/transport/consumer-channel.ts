import type { ConfirmChannel, ConsumeMessage } from 'amqplib';

const PENDING = 0;
/** Handled; its ack is not sent yet. */
const TO_ACK = 1;
/** Settled by a nack that already went out. */
const SETTLED = 2;

interface Delivery {
  msg: ConsumeMessage;
  state: typeof PENDING | typeof TO_ACK | typeof SETTLED;
}

/**
 * A consuming channel whose acks go out together: acks given in one tick leave at its end,
 * and a run of handled deliveries at the head of the channel's unacked window goes as one
 * `basic.ack` with `multiple` set, which spares the broker a frame per message. A handled
 * delivery behind one still running is acked on its own at the same time, so a slow
 * handler never holds back the others' acks (nor the prefetch slots they occupy).
 *
 * Deliveries must be registered (`delivered`) in the order they arrive, which is delivery
 * tag order. The broker rejects a multiple ack whose tag it no longer holds, so the tag
 * sent is always that of a delivery acked here and not yet sent.
 * See https://www.rabbitmq.com/docs/confirms#consumer-acks-multiple-parameter.
 */
export class ConsumerChannel {
  private window: Delivery[] = [];
  private readonly byTag = new Map<number, Delivery>();
  private scheduled = false;

  constructor(readonly channel: ConfirmChannel) {}

  /** Every delivery, as it arrives. */
  delivered(msg: ConsumeMessage): void {
    const delivery: Delivery = { msg, state: PENDING };
    this.window.push(delivery);
    this.byTag.set(msg.fields.deliveryTag, delivery);
  }

  /** Acks `msg` at the end of this tick. */
  ack(msg: ConsumeMessage): void {
    const delivery = this.byTag.get(msg.fields.deliveryTag);
    if (!delivery || delivery.state !== PENDING) return;
    delivery.state = TO_ACK;
    this.schedule();
  }

  /** Gives `msg` back to the broker now (nack with requeue). */
  requeue(msg: ConsumeMessage): void {
    const delivery = this.byTag.get(msg.fields.deliveryTag);
    if (!delivery || delivery.state !== PENDING) return;
    delivery.state = SETTLED;
    this.schedule(); // to drop it from the window
    this.channel.nack(msg, false, true);
  }

  /** Deliveries not yet settled or whose ack is still to go out. */
  get unsettled(): number {
    return this.window.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(this.flush);
  }

  /** Sends the acks given so far; runs by itself at the end of each tick that gave one. */
  readonly flush = (): void => {
    this.scheduled = false;
    let last: Delivery | undefined;
    let count = 0;
    let atHead = true;
    const rest: Delivery[] = [];
    const single: Delivery[] = [];
    for (const d of this.window) {
      if (d.state === PENDING) {
        atHead = false;
        rest.push(d);
        continue;
      }
      this.byTag.delete(d.msg.fields.deliveryTag);
      if (d.state !== TO_ACK) continue;
      if (atHead) {
        last = d;
        count++;
      } else single.push(d);
    }
    this.window = rest;
    try {
      if (last) this.channel.ack(last.msg, count > 1);
      for (const d of single) this.channel.ack(d.msg);
    } catch {
      // The channel closed under us; the broker redelivers what it had not been acked for.
    }
  };
}
