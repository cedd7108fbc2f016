import { type AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitFor } from '@app/messaging/testing';

export interface ReceivedMail {
  to: string;
  from: string;
  subject: string;
  text: string;
  messageId: string;
}

/** A real SMTP server in the test process, recording every e-mail it accepts. */
export class SmtpSink {
  readonly mails: ReceivedMail[] = [];
  /** How many of the next messages to refuse with a 451 (a transient SMTP failure). */
  refuseNext = 0;
  refused = 0;

  private constructor(private readonly server: SMTPServer) {}

  static async start(): Promise<SmtpSink> {
    // eslint-disable-next-line prefer-const -- assigned after the server it is captured by
    let sink!: SmtpSink;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        if (sink.refuseNext > 0) {
          sink.refuseNext--;
          sink.refused++;
          stream.resume();
          return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
        }
        simpleParser(stream)
          .then((mail) => {
            sink.mails.push({
              to: Array.isArray(mail.to)
                ? mail.to.map((a) => a.text).join(', ')
                : (mail.to?.text ?? ''),
              from: mail.from?.text ?? '',
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              messageId: mail.messageId ?? '',
            });
            callback();
          })
          .catch(callback);
      },
    });
    sink = new SmtpSink(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get url(): string {
    const { port } = this.server.server.address() as AddressInfo;
    return `smtp://127.0.0.1:${port}`;
  }

  mailsTo(address: string, subjectIncludes = ''): ReceivedMail[] {
    return this.mails.filter((m) => m.to.includes(address) && m.subject.includes(subjectIncludes));
  }

  waitForMail(address: string, subjectIncludes: string, timeoutMs = 10_000): Promise<ReceivedMail> {
    return waitFor(
      `an e-mail to ${address} about "${subjectIncludes}"`,
      () => this.mailsTo(address, subjectIncludes)[0],
      {
        timeoutMs,
      },
    );
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
