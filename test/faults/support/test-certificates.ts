import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a throw-away PKI, made with the machine's `openssl`. */
export interface TestCertificates {
  dir: string;
  /** The CA that signed the server's certificate: what a client should trust. */
  caFile: string;
  /** Another CA, which signed nothing the server shows: a client trusting only it refuses. */
  otherCaFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  remove(): void;
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const CA_EXTENSIONS = [
  '-addext', 'basicConstraints=critical,CA:TRUE',
  '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
]; // prettier-ignore

/**
 * A CA, a server certificate it signed for `localhost` and 127.0.0.1, and a second CA, all
 * valid for a day, in a fresh directory the `rabbitmq` user owns (the node reads the key).
 */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'fault-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) =>
    run('openssl', args, { cwd: dir }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`openssl ${args[0]}: ${error.stderr?.trim() || error.message}`, {
        cause: error,
      });
    });
  for (const ca of ['ca', 'other-ca']) {
    await openssl('req', '-x509', ...KEY, '-keyout', file(`${ca}.key`), '-out', file(`${ca}.pem`),
      '-days', '1', '-subj', `/CN=fault suite ${ca}`, ...CA_EXTENSIONS); // prettier-ignore
  }
  await openssl('req', ...KEY, '-keyout', file('server.key'), '-out', file('server.csr'),
    '-subj', '/CN=localhost'); // prettier-ignore
  writeFileSync(file('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'),
    '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', file('server.ext'),
    '-out', file('server.pem')); // prettier-ignore
  const uid = Number(execFileSync('id', ['-u', 'rabbitmq']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'rabbitmq']).toString().trim());
  for (const entry of ['', ...readdirSync(dir)]) chownSync(join(dir, entry), uid, gid);
  return {
    dir,
    caFile: file('ca.pem'),
    otherCaFile: file('other-ca.pem'),
    serverCertFile: file('server.pem'),
    serverKeyFile: file('server.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
