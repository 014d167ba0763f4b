// How long a test waits for an event before it gives up and names what it waited for. A test waits for the
// event (a server event, a state it polls for), never a fixed time; the deadline is only a backstop so a
// failure says what never came. It is never shorter than this: on a loaded machine (two cores shared by a
// full suite) a step that takes 50 ms alone has taken several seconds, and a short bound turned "slow" into
// "failed". Kept under the default test timeout (vitest.config.ts), so the wait's own message is the one seen.
export const BACKSTOP_MS = 25_000;

/** The deadline a wait gets: the one asked for, or the backstop if that is longer. */
export const backstop = (timeoutMs: number): number => Math.max(timeoutMs, BACKSTOP_MS);
