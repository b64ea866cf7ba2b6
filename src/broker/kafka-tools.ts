import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { kafkaLibsDir } from './paths.ts'

const TOOLS_LOG4J = join(dirname(fileURLToPath(import.meta.url)), 'tools-log4j2.properties')

/** Kafka's own command-line tools, by the name of their shell script in a Kafka release. */
export const KAFKA_TOOLS = {
  'kafka-console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'kafka-console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'kafka-consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'kafka-topics': 'org.apache.kafka.tools.TopicCommand',
  'kafka-producer-perf-test': 'org.apache.kafka.tools.ProducerPerformance',
  'kafka-consumer-perf-test': 'org.apache.kafka.tools.ConsumerPerformance'
} as const

export type KafkaTool = keyof typeof KAFKA_TOOLS

/** `java ... <main class> args` for a Kafka tool from the cached jars (see ensureKafkaJars). */
export function kafkaToolCommand(home: string, tool: KafkaTool, args: string[]): { command: string; args: string[] } {
  return {
    command: 'java',
    args: [
      '-Xmx512m',
      `-Dlog4j2.configurationFile=${TOOLS_LOG4J}`,
      '-cp',
      join(kafkaLibsDir(home), '*'),
      KAFKA_TOOLS[tool],
      ...args
    ]
  }
}

export interface ToolResult {
  code: number | null
  stdout: Buffer
  stderr: string
}

/** Runs a Kafka tool to completion, feeding `input` on stdin. */
export function runKafkaTool(
  home: string,
  tool: KafkaTool,
  args: string[],
  input?: Buffer | string
): Promise<ToolResult> {
  const { command, args: fullArgs } = kafkaToolCommand(home, tool, args)
  return new Promise((resolve, reject) => {
    const child = spawn(command, fullArgs, { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }))
    child.stdin.end(input ?? '')
  })
}
