import { homedir } from 'node:os'
import { join } from 'node:path'

/** The Apache Kafka version the local broker runs; passed to Maven, so pom.xml's default is only a fallback. */
export const KAFKA_VERSION = '4.1.1'

/** `$LAGSCALE_HOME`, default `~/.cache/lagscale`: broker jars and data live here, outside the work tree. */
export function lagscaleHome(env: NodeJS.ProcessEnv = process.env): string {
  return env['LAGSCALE_HOME'] || join(homedir(), '.cache', 'lagscale')
}

export function kafkaLibsDir(home: string, version = KAFKA_VERSION): string {
  return join(home, `kafka-${version}`, 'libs')
}

/** Per-port broker folder: state file, config, log and (by default) data. */
export function brokerDir(home: string, port: number): string {
  return join(home, 'brokers', String(port))
}
