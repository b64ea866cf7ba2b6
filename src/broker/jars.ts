import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UserError } from '../errors.ts'
import { KAFKA_VERSION, kafkaLibsDir } from './paths.ts'

const POM = join(dirname(fileURLToPath(import.meta.url)), 'pom.xml')
const COMPLETE_MARKER = '.complete'

/**
 * Makes sure Kafka's jars (broker, tools, log4j2 binding) are in the cache and
 * returns their folder. The first call on a machine runs Maven (a download);
 * later calls find the marker and return at once.
 */
export async function ensureKafkaJars(
  home: string,
  onProgress: (message: string) => void = () => {},
  version = KAFKA_VERSION
): Promise<string> {
  const libs = kafkaLibsDir(home, version)
  if (existsSync(join(libs, COMPLETE_MARKER))) return libs

  await requireCommand('mvn', ['-v'], 'Maven (mvn) is needed once to download the Kafka broker jars; install maven')
  onProgress(`Downloading Apache Kafka ${version} jars from Maven Central into ${libs} (first start only)...`)
  const staging = `${libs}.partial-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(dirname(libs), { recursive: true })
  const { code, output } = await run('mvn', [
    '-q',
    '-B',
    '-f',
    POM,
    `-Dkafka.version=${version}`,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${staging}`
  ])
  if (code !== 0 || !existsSync(staging) || readdirSync(staging).length === 0) {
    rmSync(staging, { recursive: true, force: true })
    const tail = output.trim().split('\n').slice(-5).join('\n')
    throw new UserError(`Maven could not download the Kafka ${version} jars:\n${tail}`)
  }
  writeFileSync(join(staging, COMPLETE_MARKER), `${new Date().toISOString()}\n`)
  rmSync(libs, { recursive: true, force: true })
  renameSync(staging, libs)
  onProgress(`Kafka ${version} jars ready (${readdirSync(libs).length - 1} files).`)
  return libs
}

export async function requireCommand(command: string, args: string[], message: string): Promise<void> {
  const { code } = await run(command, args).catch(() => ({ code: -1, output: '' }))
  if (code !== 0) throw new UserError(message)
}

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, output }))
  })
}
