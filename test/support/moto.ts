import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import {
  CreateClusterCommand,
  CreateServiceCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand
} from '@aws-sdk/client-ecs'
import { RUN_MARKER_VAR } from '../../scripts/survivors.ts'
import { uniqueName } from './cli.ts'
import { installTool, pythonVenv } from './tools.ts'

const VERSION = '5.2.5'

/** Fake keys: moto accepts any; tests pass these to every SDK client so no real AWS config is read. */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing', sessionToken: 'testing' }
export const MOTO_REGION = 'us-east-1'

/**
 * moto's AWS mock server for the AWS tests: `$MOTO_SERVER`, or PyPI's `moto[server]` installed
 * once into a venv under $LAGSCALE_HOME/tools (pinned, so every machine mocks the same AWS).
 */
export function ensureMotoServer(): string {
  const fromEnv = process.env['MOTO_SERVER']
  if (fromEnv) return fromEnv
  const venv = installTool(`moto-${VERSION}`, (dir) => pythonVenv(dir, [`moto[server]==${VERSION}`]))
  return join(venv, 'bin', 'moto_server')
}

/** Keeps the SDK away from the developer's AWS config and keys, in this test process. */
export function isolateAwsEnvironment(): void {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('AWS_')) delete process.env[key]
  }
  process.env['AWS_CONFIG_FILE'] = '/nonexistent/lagscale-test-aws-config'
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/lagscale-test-aws-credentials'
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true'
}

export interface MotoServer {
  endpoint: string
  region: string
  credentials: typeof MOTO_CREDENTIALS
  stop(): Promise<void>
}

/**
 * Starts moto_server on a free loopback port (it binds port 0 and says which port it got)
 * and resolves once it answers HTTP.
 */
export async function startMoto(timeoutMs = 60_000): Promise<MotoServer> {
  const bin = ensureMotoServer()
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/tmp',
      PYTHONUNBUFFERED: '1',
      // The test run's marker, so the runner finds a moto_server that outlived its test.
      [RUN_MARKER_VAR]: process.env[RUN_MARKER_VAR],
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_DEFAULT_REGION: MOTO_REGION
    }
  })
  let output = ''
  const onData = (chunk: Buffer): void => {
    if (output.length < 20_000) output += chunk.toString()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  let exited: number | null | undefined
  child.once('exit', (code) => {
    exited = code
  })
  const stop = (): Promise<void> => stopChild(child)
  try {
    const deadline = Date.now() + timeoutMs
    let endpoint: string | undefined
    while (Date.now() < deadline) {
      if (exited !== undefined) throw new Error(`moto_server exited with code ${exited}:\n${output.slice(-2000)}`)
      const port = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]
      if (port) {
        endpoint ??= `http://127.0.0.1:${port}`
        if (await answers(`${endpoint}/moto-api/`)) {
          return { endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS, stop }
        }
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`moto_server did not answer within ${timeoutMs} ms:\n${output.slice(-2000)}`)
  } catch (err) {
    await stop()
    throw err
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) })
    await r.arrayBuffer()
    return r.ok
  } catch {
    return false
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/** The ECS clients that have registered the test task definition, so each does it once. */
const registered = new WeakSet<ECSClient>()

/**
 * A fresh cluster with a service running `desired` tasks of the test task definition
 * ('consumer', registered on the first call).
 */
export async function createEcsService(
  ecs: ECSClient,
  { desired = 1 }: { desired?: number } = {}
): Promise<{ cluster: string; service: string }> {
  if (!registered.has(ecs)) {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'consumer',
        containerDefinitions: [{ name: 'consumer', image: 'lagscale:test', memory: 256 }]
      })
    )
    registered.add(ecs)
  }
  const cluster = uniqueName('cluster')
  const service = uniqueName('consumer')
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }))
  await ecs.send(
    new CreateServiceCommand({ cluster, serviceName: service, taskDefinition: 'consumer', desiredCount: desired })
  )
  return { cluster, service }
}
