import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runKafkaTool, type ToolResult } from '../../src/broker/kafka-tools.ts'
import { createAdmin } from '../../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { logEndOffsets } from '../../src/kafka/groups.ts'
import { partitionCount } from '../../src/kafka/topics.ts'
import { runCli, uniqueName } from './cli.ts'
import { testEnv } from './test-env.ts'
import { installTool, pythonVenv } from './tools.ts'

/** Creates a fresh topic on the test broker through the CLI and returns its name. */
export async function freshTopic(prefix: string, partitions = 1): Promise<string> {
  const topic = uniqueName(prefix)
  const r = await runCli([
    'topics',
    'create',
    '--bootstrap-server',
    testEnv().bootstrap,
    '--topic',
    topic,
    '--partitions',
    String(partitions)
  ])
  if (r.code !== 0) throw new Error(`topic create failed: ${r.stderr}`)
  return topic
}

/** One of Kafka's own Java tools (from the same jars as the broker), against the test broker's home. */
export function kafkaTool(
  tool: Parameters<typeof runKafkaTool>[1],
  args: string[],
  input?: string | Buffer
): Promise<ToolResult> {
  return runKafkaTool(testEnv().home, tool, args, input)
}

const CONFLUENT_KAFKA_VERSION = '2.16.1'
const PEER_SCRIPT = fileURLToPath(new URL('rdkafka_peer.py', import.meta.url))

interface Peer {
  name: string
  command: string
  args: string[]
}
let peer: Peer | undefined

/** kcat when the machine has it, else librdkafka through confluent-kafka (its wheel bundles librdkafka). */
export function librdkafkaPeer(): Peer {
  peer ??= findPeer()
  return peer
}

function findPeer(): Peer {
  if (spawnSync('kcat', ['-V']).status === 0) return { name: 'kcat', command: 'kcat', args: [] }
  const venv = installTool(`confluent-kafka-${CONFLUENT_KAFKA_VERSION}`, (dir) =>
    pythonVenv(dir, [`confluent-kafka==${CONFLUENT_KAFKA_VERSION}`])
  )
  return {
    name: `confluent-kafka ${CONFLUENT_KAFKA_VERSION} (rdkafka_peer.py)`,
    command: join(venv, 'bin', 'python'),
    args: [PEER_SCRIPT]
  }
}

/**
 * An independent librdkafka-based peer, with kcat's command line: kcat itself, or
 * test/support/rdkafka_peer.py, which does what kcat does for the options the tests use.
 */
export function kcat(args: string[], input?: string | Buffer): Promise<ToolResult> {
  const { command, args: peerArgs } = librdkafkaPeer()
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...peerArgs, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout: Buffer.concat(out), stderr: err })
    })
    child.stdin.end(input ?? '')
  })
}

/** Log-end offset of each partition of a topic (index = partition). */
export async function endOffsets(topic: string, partitions?: number): Promise<bigint[]> {
  const connection = resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
  const admin = createAdmin(connection)
  try {
    const indexes = Array.from({ length: partitions ?? (await partitionCount(admin, topic)) }, (_, p) => p)
    const ends = await logEndOffsets(admin, new Map([[topic, indexes]]))
    return indexes.map((p) => ends.get(`${topic}:${p}`) ?? -1n)
  } finally {
    await admin.close().catch(() => {})
  }
}

/** Records in a topic: the sum of its partitions' log-end offsets (nothing is deleted in tests). */
export async function topicRecordCount(topic: string): Promise<number> {
  return (await endOffsets(topic)).reduce((n, o) => n + Number(o), 0)
}

export interface TopicRecord {
  partition: number
  offset: bigint
  value: string
}

/** Every record up to `ends` (log-end offsets), read back with `lagscale consume`, with partition and offset. */
export async function readTopicRecords(topic: string, ends: bigint[]): Promise<TopicRecord[]> {
  const total = ends.reduce((a, b) => a + b, 0n)
  const r = await runCli([
    'consume',
    '--bootstrap-server',
    testEnv().bootstrap,
    '--topic',
    topic,
    '--from-beginning',
    '--max-messages',
    String(total),
    '--timeout-ms',
    '20000',
    '--property',
    'print.partition=true',
    '--property',
    'print.offset=true'
  ])
  assert.equal(r.code, 0, r.stderr)
  const records = r.stdout
    .trimEnd()
    .split('\n')
    .map((line) => {
      const m = /^Partition:(\d+)\tOffset:(\d+)\t(.*)$/.exec(line)
      assert.ok(m, `a consumed line: ${JSON.stringify(line)}`)
      return { partition: Number(m[1]), offset: BigInt(m[2]!), value: m[3]! }
    })
  assert.equal(BigInt(records.length), total, 'the whole topic was read')
  return records
}
