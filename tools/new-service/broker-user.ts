import { createHash, randomBytes } from 'node:crypto';

/**
 * RabbitMQ's `rabbit_password_hashing_sha256`, as definitions files store passwords:
 * base64(salt ‖ sha256(salt ‖ password)) with a 4-byte salt
 * (https://www.rabbitmq.com/docs/passwords#computing-password-hash).
 */
export function hashPassword(password: string, salt = randomBytes(4)): string {
  const digest = createHash('sha256')
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

/** Whether `password` is the one `hash` (from a definitions file) was made from. */
export function passwordMatches(hash: string, password: string): boolean {
  const salt = Buffer.from(hash, 'base64').subarray(0, 4);
  return hashPassword(password, salt) === hash;
}

/** The development password a service's broker user gets (docs/messaging.md, "Security"). */
export const devPassword = (user: string) => `${user}-secret`;
