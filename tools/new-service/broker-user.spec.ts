import { describe, expect, it } from '@jest/globals';
import { hashPassword, passwordMatches } from './broker-user.js';

describe('hashPassword', () => {
  it('matches the hash rabbitmqctl hash_password printed for "order-secret"', () => {
    // From ops/rabbitmq/definitions.json, made by the broker itself.
    const fromBroker = '/eUBj2goloEzVgnDgXiodojwDrjSdnr6whDbiESEgUitYmz9';

    expect(passwordMatches(fromBroker, 'order-secret')).toBe(true);
    expect(passwordMatches(fromBroker, 'order-secreT')).toBe(false);
  });

  it('salts each hash, and each still verifies', () => {
    const [a, b] = [hashPassword('payment-secret'), hashPassword('payment-secret')];

    expect(a).not.toBe(b);
    expect(passwordMatches(a, 'payment-secret') && passwordMatches(b, 'payment-secret')).toBe(true);
  });
});
