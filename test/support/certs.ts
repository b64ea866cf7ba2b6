/**
 * Test certificates made in process: keys from Node's crypto, certificates signed with node-forge
 * (an npm package), so the tests need no `openssl` command on the machine. PEM files, as Kafka's
 * PEM keystore and truststore and lagscale's ssl.* settings read them.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import forge from 'node-forge'

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

interface Issued {
  /** Unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the form Kafka's PEM keystore takes. */
  keyPem: string
  key: forge.pki.rsa.PrivateKey
  cert: forge.pki.Certificate
}

function keyPair(): { keyPem: string; key: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  return {
    keyPem,
    key: forge.pki.privateKeyFromPem(keyPem),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString())
  }
}

/** A certificate valid from an hour ago for two days, signed with SHA-256 by `issuer` (itself when absent). */
function certificate(
  subject: string,
  publicKey: forge.pki.rsa.PublicKey,
  signer: { key: forge.pki.rsa.PrivateKey; cert?: forge.pki.Certificate },
  extensions: object[]
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate()
  cert.publicKey = publicKey
  // Positive (leading 01) and unique: a CA must not issue two certificates with one serial.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`
  cert.validity.notBefore = new Date(Date.now() - 3600_000)
  cert.validity.notAfter = new Date(Date.now() + 2 * 24 * 3600_000)
  const name = [{ shortName: 'CN', value: subject }]
  cert.setSubject(name)
  cert.setIssuer(signer.cert ? signer.cert.subject.attributes : name)
  cert.setExtensions(extensions)
  cert.sign(signer.key, forge.md.sha256.create())
  return cert
}

function makeCa(subject: string): Issued {
  const { keyPem, key, publicKey } = keyPair()
  const cert = certificate(subject, publicKey, { key }, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' }
  ])
  return { keyPem, key, cert }
}

function issue(ca: Issued, subject: string, extensions: object[]): Issued {
  const { keyPem, key, publicKey } = keyPair()
  const cert = certificate(subject, publicKey, ca, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    ...extensions
  ])
  return { keyPem, key, cert }
}

/** A throw-away CA, a broker certificate for 127.0.0.1/localhost and a client certificate, written to `dir`. */
export function generateTestCerts(dir: string): TestCerts {
  const ca = makeCa('lagscale-test-ca')
  const otherCa = makeCa('lagscale-test-other-ca')
  const broker = issue(ca, 'localhost', [
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' }, // dNSName
        { type: 7, ip: '127.0.0.1' } // iPAddress
      ]
    }
  ])
  const client = issue(ca, 'lagscale-test-client', [{ name: 'extKeyUsage', clientAuth: true }])

  const certPem = (c: Issued): string => forge.pki.certificateToPem(c.cert)
  const write = (file: string, text: string): string => {
    const path = join(dir, file)
    writeFileSync(path, text, { mode: 0o600 })
    return path
  }
  return {
    caPem: write('ca.pem', certPem(ca)),
    brokerKeystore: write('broker-keystore.pem', broker.keyPem + certPem(broker)),
    clientKey: write('client.key', client.keyPem),
    clientCert: write('client.pem', certPem(client)),
    clientKeystore: write('client-keystore.pem', client.keyPem + certPem(client)),
    otherCaPem: write('other-ca.pem', certPem(otherCa))
  }
}
