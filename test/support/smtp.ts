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
  private gate?: { released: Promise<boolean>; release: (accept: boolean) => void };
  /** Sessions whose mail was received and waits for its reply while the sink is held. */
  private readonly held = new Set<string>();
  private readonly closedSessions = new Set<string>();

  private constructor(
    private readonly server: SMTPServer,
    private readonly host: string,
  ) {}

  /** Listens on `host` (another address than loopback: a lab host's), on `port` (0: any). */
  static async start(host = '127.0.0.1', port = 0): Promise<SmtpSink> {
    // eslint-disable-next-line prefer-const -- assigned after the server it is captured by
    let sink!: SmtpSink;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onClose(session) {
        sink.closedSessions.add(session.id);
      },
      onData(stream, session, callback) {
        if (sink.refuseNext > 0) {
          sink.refuseNext--;
          sink.refused++;
          stream.resume();
          return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
        }
        simpleParser(stream)
          .then(async (mail) => {
            if (!(await sink.waitForGate(session.id))) {
              sink.refused++;
              return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
            }
            // A mail is accepted by the 250 reply: a client that left before it sent nothing.
            if (sink.closedSessions.has(session.id)) return callback(new Error('client gone'));
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
    sink = new SmtpSink(server, host);
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return sink;
  }

  get url(): string {
    const { port } = this.server.server.address() as AddressInfo;
    return `smtp://${this.host}:${port}`;
  }

  /**
   * A slow server: from now on each mail is read but not answered (no 250) until release(),
   * so a client killed meanwhile has delivered nothing.
   */
  hold(): void {
    if (this.gate) return;
    let release!: (accept: boolean) => void;
    const released = new Promise<boolean>((resolve) => (release = resolve));
    this.gate = { released, release };
  }

  /** Answers the held mails: accepts them, or refuses them with a 451 (`accept` false). */
  release(accept = true): void {
    this.gate?.release(accept);
    this.gate = undefined;
  }

  /** Mails received and waiting for their reply while the sink is held. */
  get holding(): number {
    return this.held.size;
  }

  /** Of those, the ones whose client is still connected (a killed client's close comes later). */
  get holdingConnected(): number {
    return [...this.held].filter((id) => !this.closedSessions.has(id)).length;
  }

  /** True to accept the mail (at once unless held), false to refuse it. */
  private async waitForGate(session: string): Promise<boolean> {
    if (!this.gate) return true;
    this.held.add(session);
    try {
      return await this.gate.released;
    } finally {
      this.held.delete(session);
    }
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
    this.release();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
