// One backfill at a time per database (and schema): tryBackfillLock, a session-level advisory lock.
// Held on a connection of its own for the whole pass, so a crashed holder frees it at once (the server closes
// its session). A second pass, in this process or another replica, does not wait: it is told another one is
// running.
// PGlite is one session behind its socket (pool of one): the lock is taken on that session and the
// connection goes back to the pool, so the pass can use it.
import type pg from 'pg';

/** Apart from the shard locks' class (29795, cluster/shards.ts) and the gap deriver's (29796, ledger/gapStore.ts). */
const LOCK_CLASS = 29797;
const KEY = `hashtext('tick-collector.backfill:' || current_schema())`;

export interface BackfillLock {
  release(): Promise<void>;
}

/** Takes the lock, or returns null when another backfill holds it. */
export async function tryBackfillLock(pool: pg.Pool): Promise<BackfillLock | null> {
  const client = await pool.connect();
  let got = false;
  try {
    const r = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_CLASS}, ${KEY}) AS ok`);
    got = r.rows[0]!.ok === true;
  } catch (err) {
    client.release(err as Error);
    throw err;
  }
  if (!got) {
    client.release();
    return null;
  }
  const unlock = `SELECT pg_advisory_unlock(${LOCK_CLASS}, ${KEY})`;
  if ((pool.options.max ?? 10) <= 1) {
    client.release();
    return { release: async () => void (await pool.query(unlock).catch(() => undefined)) };
  }
  return {
    async release() {
      try {
        await client.query(unlock);
        client.release();
      } catch (err) {
        // A broken session: closing it frees the lock.
        client.release(err as Error);
      }
    },
  };
}
