export { SnapshotHistory } from './history.ts'
export {
  type Dashboard,
  type DashboardOptions,
  type DashboardSource,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_HISTORY_LIMIT,
  registerDashboard
} from './routes.ts'
