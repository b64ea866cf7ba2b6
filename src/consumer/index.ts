/** The consumer worker's programmatic API (the `lagscale consumer` command is a thin shell around it). */
export {
  DEFAULT_GROUP,
  DEFAULT_PORT,
  DEFAULT_TOPIC,
  parseWorkerSettings,
  resolveWorkerSettings,
  type WorkerSettings,
  type WorkerSettingsInput
} from './config.ts'
export { buildDeadLetterHeaders, type DeadLetterInfo, DLT_HEADERS, ensureDeadLetterTopic } from './dead-letter.ts'
export { type HandlerContext, loadHandler, type RecordHandler, seedHandler } from './handler.ts'
export { HEALTH_PATH } from './http.ts'
export { isPoison, PoisonRecordError, parseWorkUnits } from './poison.ts'
export type { WorkerRecord } from './record.ts'
export { type CreateWorkerOptions, createWorker, type StopReport, Worker } from './worker.ts'
