import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { runCli, uniqueName } from '../support/cli.ts'
import { freshTopic, kafkaTool, kcat, librdkafkaPeer } from '../support/kafka.ts'
import { testEnv } from '../support/test-env.ts'

/**
 * lagscale against peers no one here wrote: librdkafka (kcat, or on machines without it
 * confluent-kafka's librdkafka with kcat's command line) and Kafka's own Java console tools
 * and kafka-consumer-groups, all on the same real broker.
 */
const bs = (): string => testEnv().bootstrap

// Lines that are easy to mangle: UTF-8, tabs, empty lines, bytes that are not valid UTF-8.
const awkwardLines: Buffer[] = [
  Buffer.from('plain ascii'),
  Buffer.from('日本語のメッセージ'),
  Buffer.from('tab\tinside'),
  Buffer.from(''),
  Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x80]),
  Buffer.from('last line')
]
const joinLines = (lines: Buffer[]): Buffer => Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]))

describe('interop with librdkafka and Kafka tools', () => {
  test('what lagscale produces, librdkafka reads byte for byte', async (t) => {
    t.diagnostic(`librdkafka peer: ${librdkafkaPeer().name}`)
    const topic = await freshTopic('interop-ls-kcat')
    const produced = await runCli(['produce', '--bootstrap-server', bs(), '--topic', topic], {
      input: joinLines(awkwardLines)
    })
    assert.equal(produced.code, 0, produced.stderr)
    const read = await kcat(['-C', '-b', bs(), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\n'])
    assert.equal(read.code, 0, read.stderr)
    assert.deepEqual(read.stdout, joinLines(awkwardLines))
  })

  test('what librdkafka produces (with keys), lagscale reads byte for byte', async () => {
    const topic = await freshTopic('interop-kcat-ls', 3)
    const lines = ['k1:v1', 'k2:値', 'k3:', 'k1:again']
    const wrote = await kcat(['-P', '-b', bs(), '-t', topic, '-K', ':'], `${lines.join('\n')}\n`)
    assert.equal(wrote.code, 0, wrote.stderr)
    const r = await runCli([
      'consume',
      '--bootstrap-server',
      bs(),
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      String(lines.length),
      '--timeout-ms',
      '20000',
      '--property',
      'print.key=true',
      '--property',
      'key.separator=:'
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdout.trimEnd().split('\n').sort(), [...lines].sort())
    assert.match(r.stderr, new RegExp(`Processed a total of ${lines.length} messages`))
  })

  test("Kafka's console consumer reads what lagscale produces, and lagscale reads Kafka's console producer", async () => {
    const topic = await freshTopic('interop-java')
    const ours = await runCli(['produce', '--bootstrap-server', bs(), '--topic', topic], {
      input: joinLines(awkwardLines)
    })
    assert.equal(ours.code, 0, ours.stderr)
    const javaRead = await kafkaTool('kafka-console-consumer', [
      '--bootstrap-server',
      bs(),
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      String(awkwardLines.length),
      '--timeout-ms',
      '30000'
    ])
    assert.equal(javaRead.code, 0, javaRead.stderr)
    // Java decodes values as UTF-8 to print them, so compare only the lines that are valid UTF-8.
    const validUtf8 = awkwardLines.filter((l) => Buffer.from(l.toString('utf8')).equals(l))
    const javaLines = javaRead.stdout.toString('utf8').split('\n')
    for (const line of validUtf8) assert.ok(javaLines.includes(line.toString('utf8')), `java printed ${line}`)

    const topic2 = await freshTopic('interop-java-in')
    const javaLinesIn = ['from java 1', 'key:value with key', 'ユニコード']
    const javaWrote = await kafkaTool(
      'kafka-console-producer',
      ['--bootstrap-server', bs(), '--topic', topic2],
      `${javaLinesIn.join('\n')}\n`
    )
    assert.equal(javaWrote.code, 0, javaWrote.stderr)
    const r = await runCli([
      'consume',
      '--bootstrap-server',
      bs(),
      '--topic',
      topic2,
      '--from-beginning',
      '--max-messages',
      '3',
      '--timeout-ms',
      '20000'
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdout.trimEnd().split('\n'), javaLinesIn)
  })

  test("keyed records land on the same partition as with Java's producer", async () => {
    const ours = await freshTopic('interop-keys-ls', 6)
    const theirs = await freshTopic('interop-keys-java', 6)
    const keys = Array.from({ length: 40 }, (_, i) => `customer-${i * 7919}`)
    const input = `${keys.map((k) => `${k}:v`).join('\n')}\n`
    const a = await runCli(
      [
        'produce',
        '--bootstrap-server',
        bs(),
        '--topic',
        ours,
        '--property',
        'parse.key=true',
        '--property',
        'key.separator=:'
      ],
      { input }
    )
    assert.equal(a.code, 0, a.stderr)
    const b = await kafkaTool(
      'kafka-console-producer',
      ['--bootstrap-server', bs(), '--topic', theirs, '--property', 'parse.key=true', '--property', 'key.separator=:'],
      input
    )
    assert.equal(b.code, 0, b.stderr)
    const partitionsOf = async (topic: string): Promise<Map<string, string>> => {
      const r = await runCli([
        'consume',
        '--bootstrap-server',
        bs(),
        '--topic',
        topic,
        '--from-beginning',
        '--max-messages',
        String(keys.length),
        '--timeout-ms',
        '20000',
        '--property',
        'print.key=true',
        '--property',
        'print.partition=true',
        '--property',
        'print.value=false'
      ])
      assert.equal(r.code, 0, r.stderr)
      return new Map(
        r.stdout
          .trimEnd()
          .split('\n')
          .map((line) => {
            const [partition, key] = line.split('\t')
            return [key as string, partition as string]
          })
      )
    }
    const ourPartitions = await partitionsOf(ours)
    const javaPartitions = await partitionsOf(theirs)
    assert.equal(ourPartitions.size, keys.length)
    assert.deepEqual(ourPartitions, javaPartitions)
    assert.ok(new Set(ourPartitions.values()).size > 1, 'keys spread over several partitions')
  })

  test('lagscale groups describe shows the same offsets and lag as kafka-consumer-groups --describe', async () => {
    const topic = await freshTopic('interop-lag', 3)
    const group = uniqueName('interop-group')
    const lines = Array.from({ length: 30 }, (_, i) => `record-${i}`)
    assert.equal(
      (await runCli(['produce', '--bootstrap-server', bs(), '--topic', topic], { input: `${lines.join('\n')}\n` }))
        .code,
      0
    )
    const consumed = await runCli([
      'consume',
      '--bootstrap-server',
      bs(),
      '--topic',
      topic,
      '--group',
      group,
      '--from-beginning',
      '--max-messages',
      '11',
      '--timeout-ms',
      '20000'
    ])
    assert.equal(consumed.code, 0, consumed.stderr)

    const ours = await runCli(['groups', 'describe', '--bootstrap-server', bs(), '--group', group, '--output', 'json'])
    assert.equal(ours.code, 0, ours.stderr)
    const described = JSON.parse(ours.stdout)
    const java = await kafkaTool('kafka-consumer-groups', ['--bootstrap-server', bs(), '--describe', '--group', group])
    assert.equal(java.code, 0, java.stderr)
    // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
    const javaRows = java.stdout
      .toString()
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((c) => c[1] === topic)
    assert.ok(javaRows.length > 0, java.stdout.toString())
    const javaByPartition = new Map(javaRows.map((c) => [Number(c[2]), { current: c[3], end: c[4], lag: c[5] }]))
    let javaSum = 0
    for (const row of described.partitions) {
      const j = javaByPartition.get(row.partition)
      assert.ok(j, `partition ${row.partition} in kafka-consumer-groups output`)
      assert.equal(String(row.committedOffset ?? '-'), j.current)
      assert.equal(String(row.logEndOffset), j.end)
      assert.equal(String(row.lag ?? '-'), j.lag)
      javaSum += j.lag === '-' ? 0 : Number(j.lag)
    }
    assert.equal(described.summary.sumOffsetLag, javaSum)
    // 11 records were consumed and committed; partitions with no commit show '-' as in Kafka's tool.
    const committedTotal = described.partitions.reduce(
      (n: number, r: { committedOffset?: number }) => n + (r.committedOffset ?? 0),
      0
    )
    assert.equal(committedTotal, 11)

    const text = await runCli(['groups', 'describe', '--bootstrap-server', bs(), '--group', group])
    assert.match(
      text.stdout,
      /^GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID$/m
    )
    assert.match(text.stdout, new RegExp(`SumOffsetLag: ${javaSum} {2}MaxOffsetLag: \\d+`))
  })
})
