import type { Command } from 'commander'
import { usageError } from '../../errors.ts'
import {
  deleteGroup,
  describeGroup,
  type GroupDescription,
  listGroups,
  type ResetTarget,
  resetOffsets
} from '../../kafka/groups.ts'
import { partitionCount, validateTopicName } from '../../kafka/topics.ts'
import { type ConnectionFlags, connectionFrom, withConnectionOptions } from '../connection-options.ts'
import { type CliIo, writeLine } from '../io.ts'
import { formatTable, parseOutputFormat, toJson } from '../output.ts'
import { withAdmin } from '../with-admin.ts'

function requireGroup(group: string | undefined): string {
  if (group === undefined || group.trim() === '') throw usageError('--group is required and must not be empty')
  return group
}

/** The table users know from kafka-consumer-groups --describe, plus the group's SumOffsetLag. */
export function formatGroupDescription(d: GroupDescription): string {
  const lines: string[] = []
  if (d.members === 0) lines.push(`Consumer group '${d.groupId}' has no active members.`, '')
  const rows = d.partitions.map((p) => [
    d.groupId,
    p.topic,
    p.partition,
    p.committedOffset ?? '-',
    p.logEndOffset,
    p.lag ?? '-',
    p.consumerId ?? '-',
    p.host ?? '-',
    p.clientId ?? '-'
  ])
  lines.push(
    formatTable(
      ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
      rows
    )
  )
  lines.push('', `SumOffsetLag: ${d.summary.sumOffsetLag}  MaxOffsetLag: ${d.summary.maxOffsetLag}  State: ${d.state}`)
  return lines.join('\n')
}

export function registerGroupsCommands(program: Command, io: CliIo): void {
  const groups = program.command('groups').description('list, describe (lag), reset and delete consumer groups')

  withConnectionOptions(groups.command('list').description('list consumer groups'))
    .option('--output <format>', 'text or json', 'text')
    .action(async (opts: ConnectionFlags & { output: string }) => {
      const format = parseOutputFormat(opts.output)
      const list = await withAdmin(connectionFrom(opts, io), listGroups)
      if (format === 'json') writeLine(io.stdout, toJson(list))
      else for (const g of list) writeLine(io.stdout, g.groupId)
    })

  withConnectionOptions(groups.command('describe').description('offsets and lag per partition (kafka-consumer-groups)'))
    .option('--group <id>', 'consumer group')
    .option('--output <format>', 'text or json', 'text')
    .action(async (opts: ConnectionFlags & { group?: string; output: string }) => {
      const group = requireGroup(opts.group)
      const format = parseOutputFormat(opts.output)
      const d = await withAdmin(connectionFrom(opts, io), (admin) => describeGroup(admin, group))
      writeLine(io.stdout, format === 'json' ? toJson(d) : formatGroupDescription(d))
    })

  withConnectionOptions(groups.command('reset-offsets').description("move a group's committed offsets"))
    .option('--group <id>', 'consumer group')
    .option('--topic <name>', 'topic whose offsets to reset')
    .option('--to-earliest', 'to the log start')
    .option('--to-latest', 'to the log end')
    .option('--to-offset <offset>', 'to this offset (clamped to the log)')
    .option('--execute', 'commit the new offsets (without it: a dry run)')
    .option('--dry-run', 'only show the new offsets (default)')
    .option('--output <format>', 'text or json', 'text')
    .action(
      async (
        opts: ConnectionFlags & {
          group?: string
          topic?: string
          toEarliest?: boolean
          toLatest?: boolean
          toOffset?: string
          execute?: boolean
          dryRun?: boolean
          output: string
        }
      ) => {
        const group = requireGroup(opts.group)
        const topic = validateTopicName(opts.topic)
        const format = parseOutputFormat(opts.output)
        const chosen = [opts.toEarliest, opts.toLatest, opts.toOffset !== undefined].filter(Boolean).length
        if (chosen !== 1) throw usageError('give exactly one of --to-earliest, --to-latest, --to-offset')
        if (opts.execute && opts.dryRun) throw usageError('--execute and --dry-run exclude each other')
        let target: ResetTarget
        if (opts.toEarliest) target = { kind: 'earliest' }
        else if (opts.toLatest) target = { kind: 'latest' }
        else {
          if (!/^\d+$/.test(opts.toOffset ?? '')) throw usageError(`--to-offset must be a non-negative integer`)
          target = { kind: 'offset', offset: BigInt(opts.toOffset as string) }
        }
        const rows = await withAdmin(connectionFrom(opts, io), async (admin) =>
          resetOffsets(admin, {
            groupId: group,
            topic,
            target,
            execute: opts.execute === true,
            partitionCount: await partitionCount(admin, topic)
          })
        )
        if (format === 'json') writeLine(io.stdout, toJson({ group, executed: opts.execute === true, offsets: rows }))
        else {
          writeLine(
            io.stdout,
            formatTable(
              ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'],
              rows.map((r) => [group, r.topic, r.partition, r.newOffset])
            )
          )
          if (!opts.execute) writeLine(io.stderr, 'Dry run: nothing changed. Add --execute to commit these offsets.')
        }
      }
    )

  withConnectionOptions(groups.command('delete').description('delete a consumer group with no active members'))
    .option('--group <id>', 'consumer group')
    .action(async (opts: ConnectionFlags & { group?: string }) => {
      const group = requireGroup(opts.group)
      await withAdmin(connectionFrom(opts, io), (admin) => deleteGroup(admin, group))
      writeLine(io.stdout, `Deletion of requested consumer groups ('${group}') was successful.`)
    })
}
