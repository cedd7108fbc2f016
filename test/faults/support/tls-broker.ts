import type { RabbitAdmin } from '@app/messaging/testing';
import type { FaultBroker } from './fault-system.js';
import { connectionName, freePorts, PrivateBroker } from './private-broker.js';
import { makeTestCertificates, type TestCertificates } from './test-certificates.js';

/** One AMQP connection as the broker lists it, with whether it runs over TLS. */
export interface TlsConnectionInfo {
  client: string;
  ssl: boolean;
  protocol: string;
}

/**
 * A private node with a TLS listener (https://www.rabbitmq.com/docs/ssl) next to its plain
 * one, presenting a certificate the test's own CA signed. The services get only the
 * `amqps://localhost:<port>` URL (the name the certificate is for); clients' certificates are
 * not asked for.
 */
export class TlsBroker implements FaultBroker {
  private constructor(
    readonly node: PrivateBroker,
    readonly certificates: TestCertificates,
    readonly tlsPort: number,
  ) {}

  static async start(): Promise<TlsBroker> {
    const certificates = await makeTestCertificates();
    const [tlsPort] = await freePorts(1);
    try {
      const node = await PrivateBroker.start({
        config: [
          `listeners.ssl.1 = 127.0.0.1:${tlsPort}`,
          `ssl_options.cacertfile = ${certificates.caFile}`,
          `ssl_options.certfile = ${certificates.serverCertFile}`,
          `ssl_options.keyfile = ${certificates.serverKeyFile}`,
          'ssl_options.verify = verify_none',
          'ssl_options.fail_if_no_peer_cert = false',
        ],
      });
      return new TlsBroker(node, certificates, tlsPort!);
    } catch (error) {
      certificates.remove();
      throw error;
    }
  }

  get admin(): RabbitAdmin {
    return this.node.admin;
  }

  get amqpUrls(): readonly string[] {
    return [`amqps://guest:guest@localhost:${this.tlsPort}`];
  }

  queueDepths(vhost: string): Promise<Record<string, { ready: number; unacked: number }>> {
    return this.node.queueDepths(vhost);
  }

  /** The connections to `vhost`, as the broker lists them: over TLS or not, which version. */
  async connections(vhost: string): Promise<TlsConnectionInfo[]> {
    const out = await this.node.ctl(
      'list_connections', '-q', '--formatter', 'json', 'vhost', 'ssl', 'ssl_protocol', 'client_properties',
    ); // prettier-ignore
    const rows = JSON.parse(out) as {
      vhost: string;
      ssl: boolean;
      ssl_protocol: unknown;
      client_properties: unknown[];
    }[];
    return rows
      .filter((r) => r.vhost === vhost)
      .map((r) => ({
        client: connectionName(r.client_properties),
        ssl: r.ssl,
        protocol: String(r.ssl_protocol),
      }));
  }

  async stop(): Promise<void> {
    await this.node.stop({ kill: true });
    this.certificates.remove();
  }
}
