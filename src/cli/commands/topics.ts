import type { Command } from 'commander'
import { usageError } from '../../errors.ts'
import {
  alterPartitions,
  createTopic,
  deleteTopic,
  describeTopics,
  formatTopicDescription,
  listTopics,
  parseConfigPairs,
  parsePositiveInt,
  topicExists,
  validateTopicName
} from '../../kafka/topics.ts'
import { type ConnectionFlags, connectionFrom, withConnectionOptions } from '../connection-options.ts'
import { type CliIo, writeLine } from '../io.ts'
import { parseOutputFormat, toJson } from '../output.ts'
import { withAdmin } from '../with-admin.ts'

const collect = (value: string, previous: string[]): string[] => [...previous, value]

export function registerTopicsCommands(program: Command, io: CliIo): void {
  const topics = program.command('topics').description('create, list, describe, alter and delete topics (kafka-topics)')

  withConnectionOptions(topics.command('create').description('create a topic'))
    .option('--topic <name>', 'topic name')
    .option('--partitions <n>', 'number of partitions', '1')
    .option('--replication-factor <n>', 'replicas per partition', '1')
    .option('--config <key=value>', 'topic config override (repeatable)', collect, [])
    .option('--if-not-exists', 'succeed if the topic already exists')
    .action(
      async (
        opts: ConnectionFlags & {
          topic?: string
          partitions: string
          replicationFactor: string
          config: string[]
          ifNotExists?: boolean
        }
      ) => {
        const topic = validateTopicName(opts.topic)
        const partitions = parsePositiveInt('--partitions', opts.partitions)
        const replicationFactor = parsePositiveInt('--replication-factor', opts.replicationFactor)
        const configs = parseConfigPairs(opts.config)
        const config = connectionFrom(opts, io)
        await withAdmin(config, async (admin) => {
          if (opts.ifNotExists && (await topicExists(admin, topic))) return
          await createTopic(admin, { topic, partitions, replicationFactor, configs })
          writeLine(io.stdout, `Created topic ${topic}.`)
        })
      }
    )

  withConnectionOptions(topics.command('list').description('list topics'))
    .option('--exclude-internal', 'hide internal topics (default)', true)
    .option('--include-internal', 'show internal topics such as __consumer_offsets')
    .option('--output <format>', 'text or json', 'text')
    .action(async (opts: ConnectionFlags & { includeInternal?: boolean; output: string }) => {
      const format = parseOutputFormat(opts.output)
      const names = await withAdmin(connectionFrom(opts, io), (admin) => listTopics(admin, opts.includeInternal))
      if (format === 'json') writeLine(io.stdout, toJson(names))
      else for (const name of names) writeLine(io.stdout, name)
    })

  withConnectionOptions(topics.command('describe').description('partitions, leader, replicas, ISR and configs'))
    .option('--topic <name>', 'topic (default: all topics)')
    .option('--output <format>', 'text or json', 'text')
    .action(async (opts: ConnectionFlags & { topic?: string; output: string }) => {
      const format = parseOutputFormat(opts.output)
      const names = opts.topic === undefined ? undefined : [validateTopicName(opts.topic)]
      const descriptions = await withAdmin(connectionFrom(opts, io), (admin) => describeTopics(admin, names))
      if (format === 'json') writeLine(io.stdout, toJson(descriptions))
      else for (const d of descriptions) writeLine(io.stdout, formatTopicDescription(d))
    })

  withConnectionOptions(topics.command('alter').description('add partitions to a topic'))
    .option('--topic <name>', 'topic name')
    .option('--partitions <n>', 'new (larger) partition count')
    .action(async (opts: ConnectionFlags & { topic?: string; partitions?: string }) => {
      const topic = validateTopicName(opts.topic)
      if (opts.partitions === undefined) throw usageError('--partitions is required')
      const partitions = parsePositiveInt('--partitions', opts.partitions)
      await withAdmin(connectionFrom(opts, io), (admin) => alterPartitions(admin, topic, partitions))
      writeLine(io.stdout, `Topic ${topic} now has ${partitions} partitions.`)
    })

  withConnectionOptions(topics.command('delete').description('delete a topic'))
    .option('--topic <name>', 'topic name')
    .option('--if-exists', 'succeed if the topic does not exist')
    .action(async (opts: ConnectionFlags & { topic?: string; ifExists?: boolean }) => {
      const topic = validateTopicName(opts.topic)
      await withAdmin(connectionFrom(opts, io), async (admin) => {
        if (opts.ifExists && !(await topicExists(admin, topic))) return
        await deleteTopic(admin, topic)
        writeLine(io.stdout, `Deleted topic ${topic}.`)
      })
    })
}
