import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import { z } from 'zod'
import { SendFailed, type SendService } from './send-service.ts'

export const API_BODY_LIMIT = 1024 * 1024

export interface ApiRouteOptions {
  sender: SendService
  maxMessagesPerRequest: number
  maxApiValues: number
}

/**
 * POST /api/messages: JSON in, JSON out. `{"count": N}` sends N random work values
 * (0..10) as the form does; `{"values": ["a", ...]}` sends those strings, one record
 * each. The answer says where they landed: per partition, how many, and the offsets
 * of the first and last.
 */
export async function apiRoutes(app: FastifyInstance, options: ApiRouteOptions): Promise<void> {
  const body = z.union([
    z.strictObject({ count: z.number().int().min(1) }),
    z.strictObject({ values: z.array(z.string()).min(1) })
  ])

  await app.register(async (scope) => {
    scope.setErrorHandler((err: FastifyError, req, reply) => {
      const status = err.statusCode ?? 500
      if (status === 413) return jsonError(reply, 413, `request body too large (at most ${API_BODY_LIMIT} bytes)`)
      if (status === 415) return jsonError(reply, 415, 'send application/json')
      if (status >= 400 && status < 500) return jsonError(reply, 400, 'the body is not valid JSON')
      req.log.error({ err }, 'api request failed unexpectedly')
      return jsonError(reply, 500, 'internal server error')
    })

    scope.post('/api/messages', { bodyLimit: API_BODY_LIMIT }, async (req, reply) => {
      if (!req.headers['content-type']?.toLowerCase().startsWith('application/json')) {
        return jsonError(reply, 415, 'send application/json')
      }
      const parsed = body.safeParse(req.body)
      if (!parsed.success) {
        return jsonError(
          reply,
          400,
          'expected {"count": N} with N a positive integer, or {"values": ["...", ...]} with at least one string'
        )
      }
      const what = 'count' in parsed.data ? parsed.data.count : parsed.data.values
      if (typeof what === 'number' && what > options.maxMessagesPerRequest) {
        return jsonError(reply, 400, `count must be at most ${options.maxMessagesPerRequest}`)
      }
      if (typeof what !== 'number' && what.length > options.maxApiValues) {
        return jsonError(reply, 400, `values may hold at most ${options.maxApiValues} strings`)
      }
      try {
        return reply.send(await options.sender.send(what))
      } catch (err) {
        if (!(err instanceof SendFailed)) throw err
        return reply
          .code(503)
          .send({ error: `could not send the messages: ${err.message}`, acknowledged: err.acknowledged })
      }
    })
  })
}

function jsonError(reply: FastifyReply, status: number, error: string): FastifyReply {
  return reply.code(status).send({ error })
}
