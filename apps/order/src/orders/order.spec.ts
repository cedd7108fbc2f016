import { describe, expect, it } from '@jest/globals';
import { mustCancel, OrderNotCancellableError, type OrderStatus } from './order.js';

const ID = '0b7f0d7e-3a47-4d8e-9a43-3d3f2f1c9a11';

describe('mustCancel', () => {
  it('cancels a CONFIRMED order', () => {
    expect(mustCancel({ id: ID, status: 'CONFIRMED' })).toBe(true);
  });

  it('changes nothing when the order is already CANCELLED', () => {
    expect(mustCancel({ id: ID, status: 'CANCELLED' })).toBe(false);
  });

  it.each<OrderStatus>(['PENDING', 'REJECTED'])('refuses to cancel a %s order', (status) => {
    let thrown: unknown;
    try {
      mustCancel({ id: ID, status });
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(OrderNotCancellableError);
    const error = thrown as OrderNotCancellableError;
    expect(error.code).toBe('ORDER.NOT_CANCELLABLE');
    expect(error.message).toContain(ID);
    expect(error.message).toContain(status);
  });
});
