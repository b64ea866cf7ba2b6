import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { renderServerProperties, type ServerPropertiesOptions } from '../../src/broker/server-properties.ts'
import { parseProperties } from '../../src/kafka/properties.ts'

const base: ServerPropertiesOptions = {
  port: 9092,
  controllerPort: 9093,
  host: '127.0.0.1',
  dataDir: '/tmp/lagscale/data'
}
const render = (options: Partial<ServerPropertiesOptions> = {}): Map<string, string> =>
  parseProperties(renderServerProperties({ ...base, ...options }))
const list = (props: Map<string, string>, key: string): string[] => (props.get(key) ?? '').split(',')

/**
 * The rules Kafka's KafkaConfig checks for a combined broker+controller KRaft node. (Rendered
 * files, with extra listeners, a 0.0.0.0 host and an IPv6 host, were also checked once with Kafka
 * 4.1.1's own kafka.server.KafkaConfig.fromProps, which accepted them.)
 */
function assertValidKraftConfig(props: Map<string, string>): void {
  assert.equal(props.get('process.roles'), 'broker,controller')
  const nodeId = props.get('node.id')
  assert.match(nodeId ?? '', /^\d+$/)
  const listeners = list(props, 'listeners')
  const advertised = list(props, 'advertised.listeners')
  const protocols = new Map(list(props, 'listener.security.protocol.map').map((e) => e.split(':') as [string, string]))
  const name = (l: string): string => l.slice(0, l.indexOf('://'))
  const port = (l: string): string => l.slice(l.lastIndexOf(':') + 1)
  for (const l of [...listeners, ...advertised]) {
    assert.ok(protocols.has(name(l)), `${name(l)} is in listener.security.protocol.map`)
    assert.match(l, /^[A-Z_]+:\/\/(\[[0-9a-f:]+\]|[^:/\s]+):\d+$/i)
  }
  assert.equal(new Set(listeners.map(name)).size, listeners.length, 'listener names are unique')
  assert.equal(new Set(listeners.map(port)).size, listeners.length, 'listener ports are unique')
  const controller = props.get('controller.listener.names')
  assert.ok(controller && listeners.map(name).includes(controller), 'the controller listener is in listeners')
  assert.ok(!advertised.map(name).includes(controller), 'the controller listener is not advertised')
  assert.ok(
    advertised.map(name).includes(props.get('inter.broker.listener.name') ?? ''),
    'inter-broker listener advertised'
  )
  for (const l of advertised) assert.ok(!/:\/\/(0\.0\.0\.0|\[::\]):/.test(l), `${l} is not a wildcard address`)
  const voters = props.get('controller.quorum.voters') ?? ''
  const controllerListener = listeners.find((l) => name(l) === controller) ?? ''
  assert.equal(voters, `${nodeId}@127.0.0.1:${port(controllerListener)}`)
  assert.ok(props.get('log.dirs'))
}

describe('renderServerProperties', () => {
  test('a single-node KRaft config', () => {
    const props = render()
    assertValidKraftConfig(props)
    assert.equal(props.get('listeners'), 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093')
    assert.equal(props.get('advertised.listeners'), 'PLAINTEXT://127.0.0.1:9092')
    assert.equal(props.get('listener.security.protocol.map'), 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT')
    assert.equal(props.get('controller.quorum.voters'), '1@127.0.0.1:9093')
    assert.equal(props.get('log.dirs'), '/tmp/lagscale/data')
    for (const key of [
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
      'transaction.state.log.min.isr',
      'share.coordinator.state.topic.replication.factor',
      'share.coordinator.state.topic.min.isr'
    ]) {
      assert.equal(props.get(key), '1', `${key}: one node, one replica`)
    }
    assert.equal(props.get('group.initial.rebalance.delay.ms'), '0')
    assert.equal(props.get('auto.create.topics.enable'), 'false')
  })

  test('one key=value per line, ending in a newline, no duplicate keys', () => {
    const text = renderServerProperties(base)
    assert.ok(text.endsWith('\n'))
    const lines = text.trimEnd().split('\n')
    for (const line of lines) assert.match(line, /^[a-z0-9._]+=\S/)
    assert.equal(new Set(lines.map((l) => l.slice(0, l.indexOf('=')))).size, lines.length)
    assert.equal(parseProperties(text).size, lines.length)
  })

  test('extra listeners appear in listeners, advertised.listeners and the protocol map', () => {
    const props = render({
      extraListeners: [
        { name: 'SASL_PLAINTEXT', port: 9094 },
        { name: 'SECURE', protocol: 'SSL', port: 9095 }
      ]
    })
    assertValidKraftConfig(props)
    assert.deepEqual(list(props, 'listeners'), [
      'PLAINTEXT://127.0.0.1:9092',
      'SASL_PLAINTEXT://127.0.0.1:9094',
      'SECURE://127.0.0.1:9095',
      'CONTROLLER://127.0.0.1:9093'
    ])
    assert.deepEqual(list(props, 'advertised.listeners'), [
      'PLAINTEXT://127.0.0.1:9092',
      'SASL_PLAINTEXT://127.0.0.1:9094',
      'SECURE://127.0.0.1:9095'
    ])
    assert.deepEqual(list(props, 'listener.security.protocol.map'), [
      'PLAINTEXT:PLAINTEXT',
      'CONTROLLER:PLAINTEXT',
      'SASL_PLAINTEXT:SASL_PLAINTEXT',
      'SECURE:SSL'
    ])
  })

  test('extraProperties override the defaults and add settings', () => {
    const jaas =
      'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret";'
    const props = render({
      extraProperties: {
        'num.partitions': '6',
        'auto.create.topics.enable': 'true',
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': jaas
      }
    })
    assert.equal(props.get('num.partitions'), '6')
    assert.equal(props.get('auto.create.topics.enable'), 'true')
    assert.equal(props.get('sasl.enabled.mechanisms'), 'PLAIN,SCRAM-SHA-256')
    assert.equal(props.get('listener.name.sasl_plaintext.plain.sasl.jaas.config'), jaas)
    const text = renderServerProperties({ ...base, extraProperties: { 'num.partitions': '6' } })
    assert.equal(text.match(/^num\.partitions=/gm)?.length, 1, 'an override replaces the default line')
  })

  test('a host of 0.0.0.0 listens on all interfaces and advertises localhost (Kafka refuses to advertise 0.0.0.0)', () => {
    const props = render({ host: '0.0.0.0' })
    assertValidKraftConfig(props)
    assert.equal(list(props, 'listeners')[0], 'PLAINTEXT://0.0.0.0:9092')
    assert.equal(props.get('advertised.listeners'), 'PLAINTEXT://localhost:9092')
  })

  test('an IPv6 host is bracketed; :: advertises localhost', () => {
    const loopback = render({ host: '::1', extraListeners: [{ name: 'SSL', port: 9094 }] })
    assertValidKraftConfig(loopback)
    assert.equal(loopback.get('advertised.listeners'), 'PLAINTEXT://[::1]:9092,SSL://[::1]:9094')
    const any = render({ host: '::' })
    assertValidKraftConfig(any)
    assert.equal(list(any, 'listeners')[0], 'PLAINTEXT://[::]:9092')
    assert.equal(any.get('advertised.listeners'), 'PLAINTEXT://localhost:9092')
  })

  test('the output is ASCII: Kafka reads server.properties as ISO-8859-1, so non-ASCII is \\u-escaped', () => {
    const text = renderServerProperties({ ...base, dataDir: '/home/José/データ 🎉' })
    assert.match(text, /^[\x20-\x7e\n]*$/)
    assert.match(text, /^log\.dirs=\/home\/Jos\\u00e9\/\\u30c7\\u30fc\\u30bf \\ud83c\\udf89$/m)
    assert.equal(parseProperties(text).get('log.dirs'), '/home/José/データ 🎉')
  })

  test('values and keys with special characters round-trip through parseProperties', () => {
    const extraProperties: Record<string, string> = {
      'windows.path': 'C:\\kafka\\data',
      'leading.space': '  two spaces first',
      'trailing.space': 'x  ',
      'multi.line': 'a\nb\r\nc',
      'tabs.and.feeds': '\ta\tb\f',
      separators: 'a=b:c d#e!f',
      'comment.like': '#not a comment',
      empty: '',
      'key with spaces': 'v',
      'key=with:separators': 'v',
      '#hash.key': 'v',
      '!bang.key': 'v',
      'ünïcode.kéy': 'välue',
      'backslash.end': 'ends with \\',
      'control.chars': '\u0000\u0001\u007f'
    }
    const props = render({ extraProperties })
    for (const [k, v] of Object.entries(extraProperties)) assert.equal(props.get(k), v, JSON.stringify(k))
  })

  test('random keys and values round-trip (seeded)', () => {
    const alphabet = [
      'a',
      'Z',
      '0',
      ' ',
      '\t',
      '\n',
      '\r',
      '\f',
      '=',
      ':',
      '#',
      '!',
      '\\',
      'é',
      '€',
      '\u2028',
      '"',
      "'",
      '\u0000'
    ]
    let seed = 7
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return Math.floor((seed / 2147483648) * n)
    }
    const word = (): string => Array.from({ length: random(12) }, () => alphabet[random(alphabet.length)]).join('')
    for (let round = 0; round < 100; round++) {
      const extraProperties: Record<string, string> = {}
      for (let i = 0; i < 5; i++) extraProperties[`k${i}${word()}`] = word()
      const props = render({ extraProperties })
      for (const [k, v] of Object.entries(extraProperties)) {
        assert.equal(props.get(k), v, `round ${round}: ${JSON.stringify(k)}`)
      }
    }
  })
})
