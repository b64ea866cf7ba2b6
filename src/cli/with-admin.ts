import type { Admin } from '@platformatic/kafka'
import { createAdmin } from '../kafka/clients.ts'
import type { ConnectionConfig } from '../kafka/connection-config.ts'

/** Runs `fn` with an admin client and always closes it, so the command exits promptly. */
export async function withAdmin<T>(config: ConnectionConfig, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = createAdmin(config)
  try {
    return await fn(admin)
  } finally {
    await admin.close().catch(() => {})
  }
}
