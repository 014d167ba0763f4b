// Child process for feed.bench.ts: the simulated feed on its own core, so the measured client is the only
// thing on the parent's event loop. Prints {"url": ...} once listening; exits when the parent disconnects.
import { startSimServer } from '../src/feed/sim/server.js';

const rate = Number(process.argv[2] ?? 100_000);
const sim = await startSimServer({ rate, seed: 3 });
process.send?.({ url: sim.url });
process.on('disconnect', () => {
  void sim.close().then(() => process.exit(0));
});
