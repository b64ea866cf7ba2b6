import { spawn } from 'node:child_process'
import { runKafkaTool, type ToolResult } from '../../src/broker/kafka-tools.ts'
import { createAdmin } from '../../src/kafka/clients.ts'
import { resolveConnectionConfig } from '../../src/kafka/connection-config.ts'
import { logEndOffsets } from '../../src/kafka/groups.ts'
import { partitionCount } from '../../src/kafka/topics.ts'
import { runCli, uniqueName } from './cli.ts'
import { testEnv } from './test-env.ts'

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

/** Runs kcat (Debian package), an independent librdkafka-based peer. */
export function kcat(args: string[], input?: string | Buffer): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] })
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

/** Records in a topic: the sum of its partitions' log-end offsets (nothing is deleted in tests). */
export async function topicRecordCount(topic: string): Promise<number> {
  const connection = resolveConnectionConfig({ bootstrapServer: testEnv().bootstrap, env: {} })
  const admin = createAdmin(connection)
  try {
    const partitions = await partitionCount(admin, topic)
    const ends = await logEndOffsets(admin, new Map([[topic, Array.from({ length: partitions }, (_, i) => i)]]))
    return [...ends.values()].reduce((n, o) => n + Number(o), 0)
  } finally {
    await admin.close()
  }
}
