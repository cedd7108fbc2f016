import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import nodemailer, { type Transporter } from 'nodemailer';
import type { NotificationConfig } from '../notification.config.js';
import type { Email } from './email.js';

/** SMTP through nodemailer; a thin seam that unit tests replace. */
@Injectable()
export class Mailer implements OnApplicationShutdown {
  private readonly transport: Transporter;
  private readonly from: string;

  constructor(config: ConfigService<NotificationConfig, true>) {
    const mail = config.get('mail', { infer: true });
    this.from = mail.from;
    // The URL goes inside the options: createTransport(url, x) would read x as defaults of
    // every message, not as transport options, and silently drop the timeouts and the pool.
    this.transport = nodemailer.createTransport({
      url: mail.smtpUrl,
      // Bounded, so a hung SMTP server turns into a retry instead of a stuck consumer.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
      // Reused connections skip the connect, greeting and EHLO of every e-mail. A send that
      // finds its pooled connection dead fails and is retried like any other failure.
      ...(mail.poolSize > 0 ? { pool: true as const, maxConnections: mail.poolSize } : {}),
    });
  }

  /** `id` becomes the Message-ID, so a receiving system can spot a resend of the same e-mail. */
  async send(email: Email, id: string): Promise<void> {
    await this.transport.sendMail({
      from: this.from,
      to: email.to,
      subject: email.subject,
      text: email.text,
      messageId: `<${id}@notification.shop.example>`,
    });
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
