// /readyz's checks, run safely (runReadyChecks).
// /readyz answers "can this instance do its job now?". Main decides what that means (database reachable and
// migrated; in session also the feed subscribed and fresh); this file only runs the checks safely: each one
// bounded by a timeout, a throw counted as a failure, so a hung database cannot hang the probe.

export interface CheckResult {
  ok: boolean;
  /** One short human line: why it failed, or what was seen. */
  detail?: string;
}

export interface ReadyResult {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export type Check = () => CheckResult | Promise<CheckResult>;

/** Run named checks in parallel; ready when every one is ok. A check that throws or exceeds `timeoutMs` fails. */
export async function runReadyChecks(checks: Record<string, Check>, timeoutMs = 2_000): Promise<ReadyResult> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => runOne(checks[name]!, timeoutMs)));
  const out: Record<string, CheckResult> = {};
  names.forEach((name, i) => {
    out[name] = results[i]!;
  });
  return { ready: results.every((r) => r.ok), checks: out };
}

async function runOne(check: Check, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` }), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
