import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, type RunningBroker, startLocalBroker } from '../../src/broker/local-broker.ts'
import { generateTestCerts } from './certs.ts'
import type { TestEnv } from './test-env.ts'

/**
 * One broker for the whole test run, on ports of its own so a developer's broker
 * on 9092 is left alone: PLAINTEXT, SASL_PLAINTEXT (PLAIN, SCRAM-SHA-512,
 * OAUTHBEARER) and SSL with client certificates. Credentials are random per run.
 */
export async function startTestBroker(
  home: string,
  workDir: string,
  onProgress: (m: string) => void
): Promise<{ broker: RunningBroker; env: TestEnv }> {
  const certsDir = join(workDir, 'certs')
  mkdirSync(certsDir, { recursive: true })
  const certs = generateTestCerts(certsDir)
  const [port, saslPort, sslPort] = [await freePort(), await freePort(), await freePort()]
  const plainUser = { name: 'alice', password: randomBytes(12).toString('hex') }
  const scramUser = { name: 'bob', password: randomBytes(12).toString('hex') }

  const broker = await startLocalBroker({
    home,
    port,
    dataDir: join(workDir, 'data'),
    heapMb: 768,
    onProgress,
    extraListeners: [
      { name: 'SASL_PLAINTEXT', port: saslPort },
      { name: 'SSL', port: sslPort }
    ],
    scramUsers: [{ mechanism: 'SCRAM-SHA-512', name: scramUser.name, password: scramUser.password }],
    extraProperties: {
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512,OAUTHBEARER',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required user_${plainUser.name}="${plainUser.password}";`,
      'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      // No server callback handler: Kafka's unsecured JWT validator, for the OAUTHBEARER path MSK IAM uses.
      'listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config':
        'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";',
      'listener.name.ssl.ssl.keystore.type': 'PEM',
      'listener.name.ssl.ssl.keystore.location': certs.brokerKeystore,
      'listener.name.ssl.ssl.truststore.type': 'PEM',
      'listener.name.ssl.ssl.truststore.location': certs.caPem,
      'listener.name.ssl.ssl.client.auth': 'required'
    }
  })
  const env: TestEnv = {
    home,
    workDir,
    bootstrap: broker.bootstrap,
    saslBootstrap: `127.0.0.1:${saslPort}`,
    sslBootstrap: `127.0.0.1:${sslPort}`,
    plainUser,
    scramUser,
    certs
  }
  return { broker, env }
}
