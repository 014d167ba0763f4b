export { describeReason, describeWaiting, formatCountdown, formatEtAndUtc } from './describe.js';
export { type DiagnosticsInput, formatDiagnostics } from './diagnostics.js';
export {
  createSchedulerStats,
  runScheduler,
  type SchedulerOptions,
  type SchedulerStats,
  type SessionRun,
} from './scheduler.js';
