/**
 * The broker's `server.properties` for a KRaft node that is broker and controller in one
 * process: a single-node cluster by default, or one node of a small local cluster (`cluster`),
 * tuned for a laptop and for tests. Pure: no I/O.
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
  /** This node's place in a multi-node cluster; omitted: a single-node cluster (node 1). */
  cluster?: ClusterMembership
}

export interface ClusterMembership {
  nodeId: number
  /** Every node's controller port, by node id (this node's included). */
  controllers: { nodeId: number; port: number }[]
}

export function renderServerProperties(options: ServerPropertiesOptions): string {
  const extra = options.extraListeners ?? []
  // An IPv6 address needs brackets in a listener URI.
  const host = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host
  // Kafka refuses to advertise the wildcard address (0.0.0.0 or ::); clients on this machine use localhost.
  const advertisedHost = ['0.0.0.0', '[::]'].includes(host) ? 'localhost' : host
  const listeners = [
    `PLAINTEXT://${host}:${options.port}`,
    ...extra.map((l) => `${l.name}://${host}:${l.port}`),
    `CONTROLLER://127.0.0.1:${options.controllerPort}`
  ]
  const advertised = [
    `PLAINTEXT://${advertisedHost}:${options.port}`,
    ...extra.map((l) => `${l.name}://${advertisedHost}:${l.port}`)
  ]
  const protocolMap = [
    'PLAINTEXT:PLAINTEXT',
    'CONTROLLER:PLAINTEXT',
    ...extra.map((l) => `${l.name}:${l.protocol ?? l.name}`)
  ]
  const nodes = options.cluster?.controllers ?? [{ nodeId: 1, port: options.controllerPort }]
  // Internal topics as replicated as the cluster allows (3 at most, Kafka's default), so that
  // losing one node of a cluster loses no group offsets; one node: one replica.
  const internalRf = String(Math.min(3, nodes.length))
  const internalIsr = String(Math.max(1, Math.min(2, nodes.length - 1)))
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(options.cluster?.nodeId ?? 1),
    'controller.quorum.voters': nodes.map((n) => `${n.nodeId}@127.0.0.1:${n.port}`).join(','),
    listeners: listeners.join(','),
    'advertised.listeners': advertised.join(','),
    'listener.security.protocol.map': protocolMap.join(','),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': options.dataDir,
    'num.partitions': '1',
    // One offsets partition for quick group coordination (one coordinator to find and load).
    'offsets.topic.replication.factor': internalRf,
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': internalRf,
    'transaction.state.log.min.isr': internalIsr,
    'share.coordinator.state.topic.replication.factor': internalRf,
    'share.coordinator.state.topic.min.isr': internalIsr,
    // Rebalance at once when the first member joins; the default waits 3 s.
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'false',
    'delete.topic.enable': 'true',
    ...options.extraProperties
  }
  return `${Object.entries(props)
    .map(([k, v]) => `${escapeProperty(k, true)}=${escapeProperty(v, false)}`)
    .join('\n')}\n`
}

/**
 * Escapes a key or value for a .properties file as Java's Properties#store
 * would where it matters. Kafka reads server.properties as ISO-8859-1, so every
 * character past ASCII becomes \uxxxx; a key's blanks, separators and leading
 * comment mark, a value's leading blank, backslashes and line breaks are escaped.
 */
function escapeProperty(s: string, isKey: boolean): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    const code = s.charCodeAt(i)
    if (c === '\\') out += '\\\\'
    else if (c === '\n') out += '\\n'
    else if (c === '\r') out += '\\r'
    else if (c === '\t') out += '\\t'
    else if (c === '\f') out += '\\f'
    else if (c === ' ' && (isKey || i === 0)) out += '\\ '
    else if (isKey && (c === '=' || c === ':' || ((c === '#' || c === '!') && i === 0))) out += `\\${c}`
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`
    else out += c
  }
  return out
}
