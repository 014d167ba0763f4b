// Worker thread of the news poller: rss-parser (xml2js) parses synchronously, ~0.2 s per MB measured, so a
// large feed parsed on the main thread would stall the trade path. Here it stalls only this thread.
import { parentPort, workerData } from 'node:worker_threads';
import type { ParseReply, ParseRequest } from './feedParser.js';
import { parseFeedItems } from './parseFeed.js';
import { createSymbolMatcher } from './symbols.js';

const port = parentPort;
if (!port) throw new Error('parseWorker must run in a worker thread');
const match = createSymbolMatcher((workerData as { symbols: string[] }).symbols);

port.on('message', (req: ParseRequest) => {
  parseFeedItems(req.xml, match).then(
    (items) => port.postMessage({ id: req.id, items } satisfies ParseReply),
    (err: unknown) => port.postMessage({ id: req.id, error: String(err).slice(0, 500) } satisfies ParseReply),
  );
});
