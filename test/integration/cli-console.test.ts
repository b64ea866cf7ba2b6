import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { collect, runCli, spawnCli, uniqueName } from '../support/cli.ts'
import { freshTopic } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'

const bs = (): string[] => ['--bootstrap-server', testEnv().bootstrap]
const lines = (n: number, prefix = 'r'): string => Array.from({ length: n }, (_, i) => `${prefix}-${i}\n`).join('')

describe('lagscale produce / consume (console tools)', () => {
  test('a group resumes where its committed offsets left off (at-least-once: commit after print)', async () => {
    const topic = await freshTopic('console-group', 2)
    const group = uniqueName('console-group')
    assert.equal((await runCli(['produce', ...bs(), '--topic', topic], { input: lines(20) })).code, 0)

    const first = await runCli([
      'consume',
      ...bs(),
      '--topic',
      topic,
      '--group',
      group,
      '--from-beginning',
      '--max-messages',
      '8',
      '--timeout-ms',
      '20000'
    ])
    assert.equal(first.code, 0, first.stderr)
    assert.equal(first.stdout.trimEnd().split('\n').length, 8)

    const rest = await runCli([
      'consume',
      ...bs(),
      '--topic',
      topic,
      '--group',
      group,
      '--from-beginning',
      '--timeout-ms',
      '4000'
    ])
    assert.equal(rest.code, 0, rest.stderr)
    const all = [...first.stdout.trimEnd().split('\n'), ...rest.stdout.trimEnd().split('\n')]
    assert.deepEqual(
      all.sort(),
      lines(20).trimEnd().split('\n').sort(),
      'every record exactly once across the two runs'
    )

    const described = JSON.parse(
      (await runCli(['groups', 'describe', ...bs(), '--group', group, '--output', 'json'])).stdout
    )
    assert.equal(described.summary.sumOffsetLag, 0)
    assert.equal(described.members, 0)
  })

  test('print.key, print.partition, print.offset, print.timestamp and null keys as Kafka prints them', async () => {
    const topic = await freshTopic('console-format')
    const p = await runCli(
      ['produce', ...bs(), '--topic', topic, '--property', 'parse.key=true', '--property', 'key.separator=|'],
      {
        input: 'a|1\nb|2\n'
      }
    )
    assert.equal(p.code, 0, p.stderr)
    assert.equal((await runCli(['produce', ...bs(), '--topic', topic], { input: 'no key\n' })).code, 0)
    const r = await runCli([
      'consume',
      ...bs(),
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      '3',
      '--timeout-ms',
      '20000',
      '--property',
      'print.key=true',
      '--property',
      'print.partition=true',
      '--property',
      'print.offset=true',
      '--property',
      'print.timestamp=true'
    ])
    assert.equal(r.code, 0, r.stderr)
    const out = r.stdout.trimEnd().split('\n')
    assert.match(out[0] ?? '', /^CreateTime:\d{13}\tPartition:0\tOffset:0\ta\t1$/)
    assert.match(out[1] ?? '', /^CreateTime:\d{13}\tPartition:0\tOffset:1\tb\t2$/)
    assert.match(out[2] ?? '', /^CreateTime:\d{13}\tPartition:0\tOffset:2\tnull\tno key$/)
  })

  test('keyless records spread over all partitions', async () => {
    const topic = await freshTopic('console-spread', 4)
    assert.equal((await runCli(['produce', ...bs(), '--topic', topic], { input: lines(40) })).code, 0)
    const d = JSON.parse((await runCli(['topics', 'describe', ...bs(), '--topic', topic, '--output', 'json'])).stdout)
    assert.equal(d[0].partitionCount, 4)
    const r = await runCli([
      'consume',
      ...bs(),
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      '40',
      '--timeout-ms',
      '20000',
      '--property',
      'print.partition=true'
    ])
    const counts = new Map<string, number>()
    for (const line of r.stdout.trimEnd().split('\n')) {
      const partition = line.split('\t')[0] as string
      counts.set(partition, (counts.get(partition) ?? 0) + 1)
    }
    assert.equal(counts.size, 4, `records on every partition: ${[...counts]}`)
    for (const n of counts.values()) assert.equal(n, 10)
  })

  test('a reader that stops early (| head -1) ends the consumer quietly', async () => {
    const topic = await freshTopic('console-epipe')
    assert.equal((await runCli(['produce', ...bs(), '--topic', topic], { input: lines(500) })).code, 0)
    const child = spawnCli(['consume', ...bs(), '--topic', topic, '--from-beginning', '--timeout-ms', '20000'])
    child.stdin?.end()
    const result = collect(child, 30_000)
    child.stdout?.once('data', () => child.stdout?.destroy())
    const r = await result
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /)
  })

  test('--timeout-ms on an empty topic exits 0 with zero records', async () => {
    const topic = await freshTopic('console-empty')
    const r = await runCli(['consume', ...bs(), '--topic', topic, '--from-beginning', '--timeout-ms', '1500'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /Processed a total of 0 messages/)
  })

  test('bad input: unknown topic, missing key separator, bad property, bad numbers', async () => {
    const unknownProduce = await runCli(['produce', ...bs(), '--topic', 'no-such-topic'], { input: 'x\n' })
    assert.equal(unknownProduce.code, 1)
    assert.equal(unknownProduce.stderr.trim(), 'lagscale: topic no-such-topic does not exist')

    const unknownConsume = await runCli(['consume', ...bs(), '--topic', 'no-such-topic', '--timeout-ms', '1000'])
    assert.equal(unknownConsume.code, 1)
    assert.equal(unknownConsume.stderr.trim(), 'lagscale: topic no-such-topic does not exist')

    const topic = await freshTopic('console-bad')
    const noSep = await runCli(['produce', ...bs(), '--topic', topic, '--property', 'parse.key=true'], {
      input: 'k\tv\nno separator here\n'
    })
    assert.equal(noSep.code, 1)
    assert.match(noSep.stderr, /no key separator found on line 2/)

    const badProp = await runCli(['consume', ...bs(), '--topic', topic, '--property', 'print.colour=true'])
    assert.equal(badProp.code, 2)
    assert.match(badProp.stderr, /unknown --property print.colour/)

    const badMax = await runCli(['consume', ...bs(), '--topic', topic, '--max-messages', '-1'])
    assert.equal(badMax.code, 2)
    assert.match(badMax.stderr, /--max-messages must be a positive integer/)

    const missingTopic = await runCli(['produce', ...bs()])
    assert.equal(missingTopic.code, 2)
    assert.match(missingTopic.stderr, /--topic is required/)
  })
})

describe('lagscale groups', () => {
  test('list, reset-offsets (dry run, then --execute), delete', async () => {
    const topic = await freshTopic('groups-reset', 2)
    const group = uniqueName('groups-reset')
    assert.equal((await runCli(['produce', ...bs(), '--topic', topic], { input: lines(10) })).code, 0)
    assert.equal(
      (
        await runCli([
          'consume',
          ...bs(),
          '--topic',
          topic,
          '--group',
          group,
          '--from-beginning',
          '--timeout-ms',
          '3000'
        ])
      ).code,
      0
    )

    const listed = JSON.parse((await runCli(['groups', 'list', ...bs(), '--output', 'json'])).stdout)
    const entry = listed.find((g: { groupId: string }) => g.groupId === group)
    assert.ok(entry, 'group listed')
    assert.equal(entry.state, 'Empty')

    const dry = await runCli(['groups', 'reset-offsets', ...bs(), '--group', group, '--topic', topic, '--to-earliest'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, new RegExp(`^${group}\\s+${topic}\\s+0\\s+0$`, 'm'))
    assert.match(dry.stderr, /Dry run/)
    let d = JSON.parse((await runCli(['groups', 'describe', ...bs(), '--group', group, '--output', 'json'])).stdout)
    assert.equal(d.summary.sumOffsetLag, 0, 'a dry run changes nothing')

    const exec = await runCli([
      'groups',
      'reset-offsets',
      ...bs(),
      '--group',
      group,
      '--topic',
      topic,
      '--to-earliest',
      '--execute'
    ])
    assert.equal(exec.code, 0, exec.stderr)
    d = JSON.parse((await runCli(['groups', 'describe', ...bs(), '--group', group, '--output', 'json'])).stdout)
    assert.equal(d.summary.sumOffsetLag, 10)

    const toLatest = await runCli([
      'groups',
      'reset-offsets',
      ...bs(),
      '--group',
      group,
      '--topic',
      topic,
      '--to-latest',
      '--execute',
      '--output',
      'json'
    ])
    assert.equal(toLatest.code, 0, toLatest.stderr)
    const rows = JSON.parse(toLatest.stdout).offsets
    assert.equal(
      rows.reduce((n: number, r: { newOffset: number }) => n + r.newOffset, 0),
      10
    )

    const deleted = await runCli(['groups', 'delete', ...bs(), '--group', group])
    assert.equal(deleted.code, 0, deleted.stderr)
    assert.equal(deleted.stdout.trim(), `Deletion of requested consumer groups ('${group}') was successful.`)
    const gone = await runCli(['groups', 'describe', ...bs(), '--group', group])
    assert.equal(gone.code, 1)
    assert.equal(gone.stderr.trim(), `lagscale: consumer group '${group}' does not exist`)
  })

  test('bad input: no group, two reset targets, unknown group', async () => {
    const noGroup = await runCli(['groups', 'describe', ...bs()])
    assert.equal(noGroup.code, 2)
    assert.match(noGroup.stderr, /--group is required/)
    const two = await runCli([
      'groups',
      'reset-offsets',
      ...bs(),
      '--group',
      'g',
      '--topic',
      't',
      '--to-earliest',
      '--to-latest'
    ])
    assert.equal(two.code, 2)
    assert.match(two.stderr, /exactly one of --to-earliest, --to-latest, --to-offset/)
    const unknown = await runCli(['groups', 'delete', ...bs(), '--group', 'no-such-group'])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /consumer group 'no-such-group' does not exist/)
  })
})
