/**
 * `npm test`: starts one real Kafka broker for all integration tests (node's test
 * runner has no global setup on Node 22), runs every test file, stops the broker.
 * Extra arguments select test files: node scripts/run-tests.ts test/integration/cli-topics.test.ts
 * The CDK app's tests (infra/test) run too; its dependencies are installed first when missing.
 * Fails, listing them, when a process the run started (broker, worker, moto, chromium, a peer)
 * is still running after the tests and the broker have stopped.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureKafkaJars } from '../src/broker/jars.ts'
import { lagscaleHome } from '../src/broker/paths.ts'
import { startTestBroker } from '../test/support/test-broker.ts'
import { ensureInfraDependencies } from './infra-deps.ts'
import { RUN_MARKER_VAR, reapSurvivors } from './survivors.ts'

// Set before anything is started, so every process of the run, the broker too, inherits it.
const marker = randomBytes(8).toString('hex')
process.env[RUN_MARKER_VAR] = marker

const home = lagscaleHome()
const workDir = mkdtempSync(join(tmpdir(), 'lagscale-test-'))
const log = (m: string): void => void process.stderr.write(`[test broker] ${m}\n`)

ensureInfraDependencies(fileURLToPath(new URL('..', import.meta.url)), log)
await ensureKafkaJars(home, log)
const started = Date.now()
const { broker, env } = await startTestBroker(home, workDir, log)
log(
  `Kafka ${broker.kafkaVersion} at ${env.bootstrap} (SASL ${env.saslBootstrap}, SSL ${env.sslBootstrap}) in ${Date.now() - started} ms`
)
const envFile = join(workDir, 'test-env.json')
writeFileSync(envFile, JSON.stringify(env, null, 2))

const files = process.argv.slice(2)
const child = spawn(
  process.execPath,
  [
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=2',
    '--test-timeout=300000',
    ...(files.length > 0
      ? files
      : ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'infra/test/**/*.test.ts'])
  ],
  { stdio: 'inherit', env: { ...process.env, LAGSCALE_TEST_ENV: envFile, LAGSCALE_HOME: home } }
)
let interrupted = false
const interrupt = (): void => {
  interrupted = true
  child.kill('SIGTERM')
}
process.on('SIGINT', interrupt)
process.on('SIGTERM', interrupt)
const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)))

await broker.stop()
// A few seconds for processes that are on their way out (a worker finishing its shutdown).
const survivors = await reapSurvivors(marker, 10_000)
if (survivors.length > 0) {
  process.stderr.write(`\n${survivors.length} process(es) of this run still running after the tests (killed now):\n`)
  for (const s of survivors) process.stderr.write(`  pid ${s.pid}: ${s.command.slice(0, 300)}\n`)
}
const failed = code !== 0 || interrupted || survivors.length > 0
if (!failed) rmSync(workDir, { recursive: true, force: true })
else log(`kept ${workDir} (broker log: ${broker.logFile})`)
process.exit(interrupted ? 130 : code !== 0 ? code : survivors.length > 0 ? 1 : 0)
