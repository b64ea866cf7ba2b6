/**
 * The broker's `server.properties` for a single-node KRaft cluster (broker and
 * controller in one process), tuned for a laptop and for tests. Pure: no I/O.
 */
export interface ExtraListener {
  /** Listener name, e.g. SASL_PLAINTEXT or SSL; also its security protocol unless `protocol` is given. */
  name: string
  protocol?: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'
  port: number
}

export interface ServerPropertiesOptions {
  port: number
  controllerPort: number
  host: string
  dataDir: string
  extraListeners?: ExtraListener[]
  /** Any broker setting, e.g. listener.name.sasl_plaintext.plain.sasl.jaas.config. Wins over the defaults. */
  extraProperties?: Record<string, string>
}

export function renderServerProperties(options: ServerPropertiesOptions): string {
  const extra = options.extraListeners ?? []
  const listeners = [
    `PLAINTEXT://${options.host}:${options.port}`,
    ...extra.map((l) => `${l.name}://${options.host}:${l.port}`),
    `CONTROLLER://127.0.0.1:${options.controllerPort}`
  ]
  const advertised = [
    `PLAINTEXT://${options.host}:${options.port}`,
    ...extra.map((l) => `${l.name}://${options.host}:${l.port}`)
  ]
  const protocolMap = [
    'PLAINTEXT:PLAINTEXT',
    'CONTROLLER:PLAINTEXT',
    ...extra.map((l) => `${l.name}:${l.protocol ?? l.name}`)
  ]
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${options.controllerPort}`,
    listeners: listeners.join(','),
    'advertised.listeners': advertised.join(','),
    'listener.security.protocol.map': protocolMap.join(','),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': options.dataDir,
    'num.partitions': '1',
    // One node: internal topics with one replica, one offsets partition for quick group coordination.
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    // Rebalance at once when the first member joins; the default waits 3 s.
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'false',
    'delete.topic.enable': 'true',
    ...options.extraProperties
  }
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${escapeValue(v)}`)
    .join('\n')}\n`
}

function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}
