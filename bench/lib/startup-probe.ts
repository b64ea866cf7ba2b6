/**
 * Preloaded into every `lagscale consumer` of `npm run bench:scale` (NODE_OPTIONS=--import):
 * prints JSON lines on stdout, next to the worker's own log, that split its start-up:
 *   bench:node-up         Node is running this process's JavaScript (before any module of lagscale)
 *   bench:first-connect   the Kafka client opens its first connection (every module loaded, CLI parsed)
 *   bench:join            the consumer sends its first JoinGroup
 * Read-only: it subscribes to @platformatic/kafka's diagnostics channels and changes nothing.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'

function stamp(event: string): void {
  process.stdout.write(`${JSON.stringify({ event, time: new Date().toISOString(), pid: process.pid })}\n`)
}

stamp('bench:node-up')

const CONNECT = 'tracing:plt:kafka:connections:connects:start'
const GROUP = 'tracing:plt:kafka:consumer:group:start'

const onConnect = (): void => {
  unsubscribe(CONNECT, onConnect)
  stamp('bench:first-connect')
}
const onGroup = (message: unknown): void => {
  if ((message as { operation?: string }).operation !== 'joinGroup') return
  unsubscribe(GROUP, onGroup)
  stamp('bench:join')
}
subscribe(CONNECT, onConnect)
subscribe(GROUP, onGroup)
