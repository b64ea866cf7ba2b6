import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TestCerts {
  caPem: string
  /** Broker key (PKCS#8) + certificate, the PEM keystore Kafka reads. */
  brokerKeystore: string
  clientKey: string
  clientCert: string
  /** Client key + certificate in one PEM file (lagscale's ssl.keystore.location). */
  clientKeystore: string
  /** A CA the broker does not trust, for negative tests. */
  otherCaPem: string
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** A throw-away CA, a broker certificate for 127.0.0.1/localhost and a client certificate, made with openssl. */
export function generateTestCerts(dir: string): TestCerts {
  const days = '2'
  for (const ca of ['ca', 'other-ca']) {
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${ca}.key`], dir)
    openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        `${ca}.key`,
        '-days',
        days,
        '-subj',
        `/CN=lagscale-test-${ca}`,
        '-out',
        `${ca}.pem`
      ],
      dir
    )
  }
  const issue = (name: string, subject: string, ext: string): void => {
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.key`], dir)
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir)
    writeFileSync(join(dir, `${name}.ext`), ext)
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        days,
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.pem`
      ],
      dir
    )
  }
  issue(
    'broker',
    '/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n'
  )
  issue('client', '/CN=lagscale-test-client', 'extendedKeyUsage=clientAuth\n')

  const read = (f: string): string => readFileSync(join(dir, f), 'utf8')
  const brokerKeystore = join(dir, 'broker-keystore.pem')
  writeFileSync(brokerKeystore, read('broker.key') + read('broker.pem'))
  const clientKeystore = join(dir, 'client-keystore.pem')
  writeFileSync(clientKeystore, read('client.key') + read('client.pem'))
  return {
    caPem: join(dir, 'ca.pem'),
    brokerKeystore,
    clientKey: join(dir, 'client.key'),
    clientCert: join(dir, 'client.pem'),
    clientKeystore,
    otherCaPem: join(dir, 'other-ca.pem')
  }
}
