// The scheduler's public surface: the outer loop (sleep until the open, run a session), its stats and words.
export { describeReason, describeWaiting, formatCountdown, formatEtAndUtc } from './describe.js';
export { type DiagnosticsInput, formatDiagnostics } from './diagnostics.js';
export {
  createSchedulerStats,
  runScheduler,
  type SchedulerOptions,
  type SchedulerStats,
  type SessionRun,
} from './scheduler.js';
