import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { DEFAULT_PORT as CONSUMER_PORT } from '../../src/consumer/config.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { DEFAULT_PORT as PRODUCER_PORT } from '../../src/producer/config.ts'
import { ensureHadolint } from '../support/hadolint.ts'

/** The Dockerfiles and compose.yaml (S11-S12). No Docker engine here: they are linted and checked, not built. */
const root = new URL('../../', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8')

const services = [
  { name: 'producer', port: PRODUCER_PORT, health: '/msk-producer-healthCheck' },
  { name: 'consumer', port: CONSUMER_PORT, health: '/msk-consumer-healthCheck' }
]

describe('Dockerfiles', () => {
  let hadolint = ''
  before(() => {
    hadolint = ensureHadolint()
  })

  for (const svc of services) {
    const file = `docker/${svc.name}.Dockerfile`
    test(`${file} passes hadolint`, () => {
      const r = spawnSync(hadolint, ['--no-color', file], { cwd: root, encoding: 'utf8' })
      assert.equal(r.status, 0, r.stdout + r.stderr)
    })

    test(`${file}: multi-stage on Node 22 slim, non-root, health check, port ${svc.port}`, () => {
      const text = read(file)
      const froms = text.match(/^FROM .+$/gm) ?? []
      assert.ok(froms.length >= 2, 'a build stage and a runtime stage')
      for (const from of froms) assert.match(from, /^FROM node:22-slim\b/)
      assert.match(text, /^USER [1-9]\d*:[1-9]\d*$/m, 'runs as a numeric non-root user')
      assert.match(text, new RegExp(`^EXPOSE ${svc.port}$`, 'm'))
      assert.match(text, new RegExp(`^HEALTHCHECK .*\\n.*${svc.health}`, 'm'))
      assert.match(text, /--omit=dev/, 'runtime has production dependencies only')
      assert.match(text, new RegExp(`^CMD \\["${svc.name}"\\]$`, 'm'))
    })
  }
})

describe('docker/msk-iam.properties (what the images use on MSK)', () => {
  test('copied into both images where the CDK app points KAFKA_COMMAND_CONFIG', () => {
    for (const svc of services) {
      assert.match(
        read(`docker/${svc.name}.Dockerfile`),
        /^COPY docker\/msk-iam\.properties \.\/config\/msk-iam\.properties$/m,
        `${svc.name}: /app/config/msk-iam.properties (infra/lib/services.ts IMAGE_CLIENT_PROPERTIES)`
      )
    }
  })

  test('resolves to SASL_SSL with AWS_MSK_IAM, the seed S6 settings, and holds no secret', () => {
    const file = new URL('docker/msk-iam.properties', root)
    const config = resolveConnectionConfig({
      bootstrapServer: 'b-1.msktutorialcluster.abc123.c2.kafka.ap-northeast-1.amazonaws.com:9098',
      commandConfig: fileURLToPath(file),
      env: {}
    })
    assert.equal(config.securityProtocol, 'SASL_SSL')
    // AWS_MSK_IAM is OAUTHBEARER on the wire, with a SigV4-signed token for the bootstrap's region.
    assert.deepEqual(config.sasl, {
      mechanism: 'OAUTHBEARER',
      token: { kind: 'msk-iam', region: 'ap-northeast-1' }
    })
    assert.ok(config.tls, 'TLS on')
    const settings = read('docker/msk-iam.properties')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'))
    assert.equal(settings.length, 4)
    for (const line of settings) assert.doesNotMatch(line, /password|secret|access.?key|token/i)
  })
})

describe('compose.yaml', () => {
  const compose = parse(read('compose.yaml')) as {
    services: Record<
      string,
      {
        ports?: string[]
        environment?: Record<string, string | number>
        depends_on?: Record<string, { condition: string }>
        build?: { dockerfile: string }
        command?: string[]
        image?: string
      }
    >
  }

  test('runs a broker, creates the topic, then the producer and a consumer', () => {
    const s = compose.services
    assert.deepEqual(Object.keys(s).sort(), ['broker', 'consumer', 'producer', 'topic'])
    assert.match(s['broker']?.image ?? '', /^apache\/kafka:4\./)
    assert.equal(s['topic']?.depends_on?.['broker']?.condition, 'service_healthy')
    assert.deepEqual(s['topic']?.command?.slice(0, 4), ['topics', 'create', '--topic', 'Topic_from_java'])
    for (const svc of ['producer', 'consumer']) {
      assert.equal(s[svc]?.depends_on?.['topic']?.condition, 'service_completed_successfully')
      assert.equal(s[svc]?.build?.dockerfile, `docker/${svc}.Dockerfile`)
      assert.equal(s[svc]?.environment?.['KAFKA_BOOTSTRAP_SERVERS'], 'broker:9092')
      assert.equal(s[svc]?.environment?.['TOPIC'], 'Topic_from_java')
    }
    assert.deepEqual(s['producer']?.ports, [`${PRODUCER_PORT}:${PRODUCER_PORT}`])
    assert.equal(s['consumer']?.environment?.['GROUP_ID'], 'group_id')
    assert.equal(s['consumer']?.ports, undefined, 'consumers scale out, so they publish no host port')
  })
})
