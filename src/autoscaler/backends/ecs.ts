import {
  ApplicationAutoScalingClient,
  DescribeScalableTargetsCommand,
  type ScalableTarget
} from '@aws-sdk/client-application-auto-scaling'
import {
  DescribeServicesCommand,
  type DescribeServicesCommandOutput,
  ECSClient,
  type ECSClientConfig,
  type Service,
  UpdateServiceCommand
} from '@aws-sdk/client-ecs'
import pino from 'pino'
import { UserError, usageError } from '../../errors.ts'
import type { Logger } from '../../log.ts'
import { awsUserError, isThrottling } from '../aws-errors.ts'
import type { BackendStatus, Decision, ScalingBackend } from '../types.ts'

/** Static keys or a provider, as every AWS SDK v3 client takes them; unset: the SDK's default chain. */
export type AwsCredentials = NonNullable<ECSClientConfig['credentials']>

export interface EcsBackendOptions {
  /** Cluster name or ARN. */
  cluster: string
  /** Service name or ARN. */
  service: string
  /** Unset: the SDK's chain (AWS_REGION, the profile). */
  region?: string
  /** A custom endpoint for both ECS and Application Auto Scaling (tests, VPC endpoints). */
  endpoint?: string
  credentials?: AwsCredentials
  /** The autoscaler's own bounds; the service's scalable target (if any) narrows them further. */
  min?: number
  max?: number
  logger?: Logger
  /** Attempts per AWS call, throttling retries included (the SDK's default is 3). */
  maxAttempts?: number
}

export interface EcsLimits {
  /** The bounds scaleTo obeys: the options', narrowed by the scalable target's. */
  min: number
  /** undefined: unbounded. */
  max?: number
  /** 'scalable-target' when Application Auto Scaling registers the service and its bounds were read. */
  source: 'options' | 'scalable-target'
  scalableTarget?: { min: number; max: number }
}

export interface EcsScaleResult {
  requested: number
  /** The count the service was asked for (or already had), after the bounds. */
  desired: number
  /** The service's desiredCount before the call. */
  previous: number
  /** False when the service already had `desired` (no UpdateService call). */
  updated: boolean
  /** Set when a bound changed the requested count. */
  bound?: 'min' | 'max'
  /** Whose bound it was. */
  boundBy?: 'options' | 'scalable-target'
  limits: EcsLimits
}

export interface EcsBackend extends ScalingBackend {
  readonly name: 'ecs'
  /** scaleTo that also says whether and why the count was clamped (ScalingBackend.scaleTo returns void). */
  scale(desired: number, decision?: Decision): Promise<EcsScaleResult>
  /** The bounds in force now (reads the scalable target). */
  limits(): Promise<EcsLimits>
  /** The last scale's outcome (also shown in status().detail when clamped). */
  readonly lastScale: EcsScaleResult | undefined
}

const SCALABLE_DIMENSION = 'ecs:service:DesiredCount'

function checkBound(value: number | undefined, flag: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
    throw usageError(`${flag} must be a whole number >= 0 (got ${value})`)
  }
}

function clamp(n: number, min: number, max: number | undefined): number {
  return Math.max(min, Math.min(max ?? Number.POSITIVE_INFINITY, n))
}

/** The last path segment of a name or ARN (`arn:aws:ecs:r:a:cluster/c` -> `c`, `service/c/s` -> `s`). */
function shortName(nameOrArn: string): string {
  return nameOrArn.split('/').pop() ?? nameOrArn
}

/**
 * Consumers as an ECS service: the backend reads and sets its desiredCount. It stays within
 * its own min/max and, when the service is an Application Auto Scaling scalable target,
 * within that target's MinCapacity/MaxCapacity (which AWS would enforce against us anyway).
 */
export function createEcsBackend(options: EcsBackendOptions): EcsBackend {
  checkBound(options.min, '--min')
  checkBound(options.max, '--max')
  if (options.min !== undefined && options.max !== undefined && options.min > options.max) {
    throw usageError(`--min (${options.min}) must not be above --max (${options.max})`)
  }
  if (!options.cluster) throw usageError('the ECS cluster name is empty (--ecs-cluster)')
  if (!options.service) throw usageError('the ECS service name is empty (--ecs-service)')
  const log = options.logger ?? pino({ level: 'silent' })
  const clientConfig = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {})
  }
  const ecs = new ECSClient(clientConfig)
  const autoscaling = new ApplicationAutoScalingClient(clientConfig)
  const optMin = options.min ?? 0
  const optMax = options.max
  const what = `ECS service "${options.service}" in cluster "${options.cluster}"`
  // Once the scalable-target lookup is denied or unsupported, the options alone apply (said once).
  let targetLookup: 'on' | 'off' = 'on'
  let targetWarned = false
  let lastScale: EcsScaleResult | undefined

  async function region(): Promise<string | undefined> {
    try {
      return await ecs.config.region()
    } catch {
      return undefined
    }
  }

  async function fail(err: unknown, action: string): Promise<UserError> {
    const name = (err as { name?: string } | undefined)?.name
    const where = async (): Promise<string> => {
      const r = await region()
      return r ? ` (region ${r})` : ''
    }
    if (name === 'ClusterNotFoundException') {
      return new UserError(`ECS cluster "${options.cluster}" not found${await where()}`, 1, { cause: err })
    }
    if (name === 'ServiceNotFoundException') {
      return new UserError(`${what} not found${await where()}`, 1, { cause: err })
    }
    if (name === 'ServiceNotActiveException') {
      return new UserError(`${what} is not active (deleted or draining)`, 1, { cause: err })
    }
    return awsUserError(err, { action, target: what, endpoint: options.endpoint })
  }

  async function describe(): Promise<Service> {
    let out: DescribeServicesCommandOutput
    try {
      out = await ecs.send(new DescribeServicesCommand({ cluster: options.cluster, services: [options.service] }))
    } catch (err) {
      throw await fail(err, 'ecs:DescribeServices')
    }
    const service = out.services?.[0]
    if (!service) {
      const reason = out.failures?.[0]?.reason
      // ECS reports a missing service as a failure entry, not an error.
      if (reason === 'MISSING' || reason === undefined) {
        throw await fail({ name: 'ServiceNotFoundException' }, 'ecs:DescribeServices')
      }
      throw new UserError(`ecs:DescribeServices on ${what} failed: ${reason}`)
    }
    if (service.status === 'INACTIVE') throw await fail({ name: 'ServiceNotActiveException' }, 'ecs:DescribeServices')
    return service
  }

  async function scalableTarget(service: Service): Promise<ScalableTarget | undefined> {
    if (targetLookup === 'off') return undefined
    // Application Auto Scaling names the service by short names, whatever the user passed.
    const clusterName = shortName(service.clusterArn ?? options.cluster)
    const resourceId = `service/${clusterName}/${service.serviceName ?? shortName(options.service)}`
    try {
      const out = await autoscaling.send(
        new DescribeScalableTargetsCommand({
          ServiceNamespace: 'ecs',
          ResourceIds: [resourceId],
          ScalableDimension: SCALABLE_DIMENSION
        })
      )
      return out.ScalableTargets?.find((t) => t.ResourceId === resourceId)
    } catch (err) {
      // A transient failure falls back for this call only; a denied or unsupported one for good.
      const transient = isThrottling(err) || (err as { $fault?: string }).$fault === 'server'
      if (!transient) targetLookup = 'off'
      if (!targetWarned) {
        targetWarned = true
        const reason = awsUserError(err, {
          action: 'application-autoscaling:DescribeScalableTargets',
          target: resourceId,
          endpoint: options.endpoint
        }).message
        log.warn(
          { resourceId, reason },
          `cannot read the service's Application Auto Scaling bounds, using only the autoscaler's min/max: ${reason}`
        )
      }
      return undefined
    }
  }

  function limitsFor(target: ScalableTarget | undefined): EcsLimits {
    if (target?.MinCapacity === undefined || target.MaxCapacity === undefined) {
      return { min: optMin, ...(optMax !== undefined ? { max: optMax } : {}), source: 'options' }
    }
    const tMin = target.MinCapacity
    const tMax = target.MaxCapacity
    // The options' range, then the target's: when they do not overlap the target wins, as AWS enforces it.
    return {
      min: clamp(optMin, tMin, tMax),
      max: clamp(optMax ?? Number.POSITIVE_INFINITY, tMin, tMax),
      source: 'scalable-target',
      scalableTarget: { min: tMin, max: tMax }
    }
  }

  const backend: EcsBackend = {
    name: 'ecs',

    get lastScale() {
      return lastScale
    },

    async status(): Promise<BackendStatus> {
      const s = await describe()
      return {
        desired: s.desiredCount ?? 0,
        running: s.runningCount ?? 0,
        detail: {
          pending: s.pendingCount ?? 0,
          status: s.status,
          deployments: (s.deployments ?? []).map((d) => ({
            id: d.id,
            status: d.status,
            rolloutState: d.rolloutState,
            desired: d.desiredCount,
            running: d.runningCount,
            pending: d.pendingCount,
            failedTasks: d.failedTasks
          })),
          ...(lastScale?.bound ? { lastBound: lastScale.bound, lastBoundBy: lastScale.boundBy } : {})
        }
      }
    },

    async limits(): Promise<EcsLimits> {
      return limitsFor(await scalableTarget(await describe()))
    },

    async scaleTo(desired: number, decision: Decision): Promise<void> {
      await backend.scale(desired, decision)
    },

    async scale(requested: number, decision?: Decision): Promise<EcsScaleResult> {
      if (!Number.isInteger(requested) || requested < 0) {
        throw new RangeError(`desired consumers must be a whole number >= 0 (got ${requested})`)
      }
      const service = await describe()
      const limits = limitsFor(await scalableTarget(service))
      const desired = clamp(requested, limits.min, limits.max)
      const previous = service.desiredCount ?? 0
      const result: EcsScaleResult = { requested, desired, previous, updated: false, limits }
      if (desired !== requested) {
        result.bound = desired < requested ? 'max' : 'min'
        const byOptions = clamp(requested, optMin, optMax)
        result.boundBy = limits.source === 'scalable-target' && byOptions !== desired ? 'scalable-target' : 'options'
        log.info(
          { requested, desired, bound: result.bound, boundBy: result.boundBy, limits },
          `asked for ${requested} consumers, clamped to the ${result.boundBy === 'scalable-target' ? "scalable target's" : "autoscaler's"} ${result.bound} of ${desired}`
        )
      }
      if (desired !== previous) {
        try {
          await ecs.send(
            new UpdateServiceCommand({ cluster: options.cluster, service: options.service, desiredCount: desired })
          )
        } catch (err) {
          throw await fail(err, 'ecs:UpdateService')
        }
        result.updated = true
        log.info(
          { cluster: options.cluster, service: options.service, from: previous, to: desired, policy: decision?.policy },
          `ECS desiredCount ${previous} -> ${desired}`
        )
      } else {
        log.debug({ desired }, 'ECS service already has this desiredCount; not updating')
      }
      lastScale = result
      return result
    },

    async close(): Promise<void> {
      ecs.destroy()
      autoscaling.destroy()
    }
  }
  return backend
}
