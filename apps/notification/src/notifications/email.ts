import type {
  InventoryStockLow,
  OrderCancelled,
  OrderConfirmed,
  OrderItem,
  OrderRejected,
  PayloadOf,
} from '@app/contracts';

/** An e-mail to send, rendered from one event; pure, so templates are unit-tested. */
export interface Email {
  to: string;
  subject: string;
  text: string;
  orderId: string | null;
}

const REASONS: Record<PayloadOf<typeof OrderRejected>['reason'], string> = {
  OUT_OF_STOCK: 'some items are out of stock',
  INVALID_ITEMS: 'some items do not exist in our catalogue',
  INVENTORY_UNAVAILABLE: 'we could not check our stock in time',
};

export function orderConfirmedEmail(e: PayloadOf<typeof OrderConfirmed>): Email {
  return {
    to: e.customerEmail,
    subject: `Order ${e.orderId} confirmed`,
    text: `Good news: your order ${e.orderId} is confirmed.\n\n${lines(e.items)}\n`,
    orderId: e.orderId,
  };
}

export function orderRejectedEmail(e: PayloadOf<typeof OrderRejected>): Email {
  const skus = e.skus.length > 0 ? ` (${e.skus.join(', ')})` : '';
  return {
    to: e.customerEmail,
    subject: `Order ${e.orderId} could not be accepted`,
    text: `Sorry, we could not accept your order ${e.orderId}: ${REASONS[e.reason]}${skus}.\nNothing has been charged.\n`,
    orderId: e.orderId,
  };
}

export function orderCancelledEmail(e: PayloadOf<typeof OrderCancelled>): Email {
  return {
    to: e.customerEmail,
    subject: `Order ${e.orderId} cancelled`,
    text: `Your order ${e.orderId} has been cancelled as you asked.\n\n${lines(e.items)}\n`,
    orderId: e.orderId,
  };
}

export function stockLowEmail(e: PayloadOf<typeof InventoryStockLow>, opsEmail: string): Email {
  return {
    to: opsEmail,
    subject: `Stock low: ${e.sku} (${e.available} left)`,
    text: `${e.sku} is down to ${e.available} unit(s), at or below the threshold of ${e.threshold}.\n`,
    orderId: null,
  };
}

function lines(items: readonly OrderItem[]): string {
  return items.map((i) => `  ${i.quantity} × ${i.sku}`).join('\n');
}
