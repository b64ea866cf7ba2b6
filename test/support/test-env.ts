import { readFileSync } from 'node:fs'
import type { TestCerts } from './certs.ts'

/** What the test runner's broker offers; written by scripts/run-tests.ts, read by integration tests. */
export interface TestEnv {
  home: string
  workDir: string
  /** PLAINTEXT listener */
  bootstrap: string
  /** SASL_PLAINTEXT listener: PLAIN, SCRAM-SHA-512 and OAUTHBEARER (unsecured JWT validator) */
  saslBootstrap: string
  /** SSL listener, client certificate required */
  sslBootstrap: string
  plainUser: { name: string; password: string }
  scramUser: { name: string; password: string }
  certs: TestCerts
}

let cached: TestEnv | undefined

export function testEnv(): TestEnv {
  if (cached) return cached
  const file = process.env['LAGSCALE_TEST_ENV']
  if (!file) {
    throw new Error(
      'integration tests need the test broker: run them through `npm test` or `node scripts/run-tests.ts <files>`'
    )
  }
  cached = JSON.parse(readFileSync(file, 'utf8')) as TestEnv
  return cached
}
