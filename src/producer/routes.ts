import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import type { Logger } from '../log.ts'
import type { HealthProbe } from './health.ts'
import type { ProducerMetrics } from './metrics.ts'
import { INDEX_HTML } from './page.ts'
import { SendFailed, type SendService } from './send-service.ts'
import { INVALID_MESSAGE, messageFromForm, messageFromJson, parseMessageCount } from './validate.ts'

const TEXT = 'text/plain; charset=utf-8'

/** Bodies of POST /msk-producer-send above this get 413: the field is a number, a few bytes. */
export const SEND_BODY_LIMIT = 1024
export const TOO_LARGE = `Request body too large (at most ${SEND_BODY_LIMIT} bytes).`
export const UNSUPPORTED_TYPE =
  'Unsupported Content-Type: send application/x-www-form-urlencoded (a form) or application/json.'

interface RawBody {
  kind: 'form' | 'json'
  text: string
}

export interface SeedRouteOptions {
  sender: SendService
  health: HealthProbe
  maxMessagesPerRequest: number
  log: Logger
}

/** The seed's routes (S14-S17), every path starting with msk-producer for the ALB's path routing. */
export async function seedRoutes(app: FastifyInstance, options: SeedRouteOptions): Promise<void> {
  const { sender, health, maxMessagesPerRequest, log } = options

  app.get('/msk-producer-healthCheck', async (_req, reply) => {
    const state = await health.check()
    if (state.ok) return reply.type(TEXT).send('Healthy')
    return reply.code(503).type(TEXT).send(`Unhealthy: ${state.reason}`)
  })

  app.get('/msk-producer', async (_req, reply) => reply.redirect('/msk-producer-index.html', 302))

  app.get('/msk-producer-index.html', async (_req, reply) => reply.type('text/html; charset=utf-8').send(INDEX_HTML))

  // The send route reads its body as text and checks it itself: no JSON.parse or
  // querystring quirks (1e3, 5.0, duplicated keys) get between the user and the rule.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    for (const kind of ['form', 'json'] as const) {
      scope.addContentTypeParser(
        kind === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
        { parseAs: 'string', bodyLimit: SEND_BODY_LIMIT },
        (_req, text, done) => done(null, { kind, text: String(text) } satisfies RawBody)
      )
    }
    scope.setErrorHandler((err: FastifyError, req, reply) => {
      const status = err.statusCode ?? 500
      if (status === 413) return textReply(reply, 413, TOO_LARGE)
      if (status === 415) return textReply(reply, 415, UNSUPPORTED_TYPE)
      if (status >= 400 && status < 500) return textReply(reply, 400, INVALID_MESSAGE)
      req.log.error({ err }, 'send failed unexpectedly')
      return textReply(reply, 500, 'Internal server error.')
    })

    scope.post('/msk-producer-send', async (req, reply) => {
      const body = req.body as RawBody | undefined
      const raw =
        body === undefined ? undefined : body.kind === 'form' ? messageFromForm(body.text) : messageFromJson(body.text)
      const parsed = parseMessageCount(raw, maxMessagesPerRequest)
      if (!parsed.ok) return textReply(reply, 400, parsed.error)
      try {
        await sender.send(parsed.count)
      } catch (err) {
        if (!(err instanceof SendFailed)) throw err
        log.warn({ count: parsed.count, acknowledged: err.acknowledged }, 'answering 503')
        return textReply(
          reply,
          503,
          `Could not send the messages: ${err.message.replace(/\.$/, '')}. ${err.acknowledged} of ${parsed.count} were acknowledged.`
        )
      }
      return textReply(reply, 200, `Messages sent: ${parsed.count}`)
    })
  })
}

export function metricsRoute(app: FastifyInstance, metrics: ProducerMetrics): void {
  app.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  )
}

function textReply(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type(TEXT).send(text)
}
