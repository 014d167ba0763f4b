// Worker thread of the news poller: it parses feed bodies with rss-parser.
// rss-parser (xml2js) parses synchronously, ~0.2 s per MB measured, so a large feed parsed on the main thread
// would stall the trade path. Here it stalls only this thread.
import { parentPort, workerData } from 'node:worker_threads';
import type { ParseReply, ParseRequest } from './feedParser.js';
import { parseFeed } from './parseFeed.js';
import { createSymbolMatcher } from './symbols.js';

const port = parentPort;
if (!port) throw new Error('parseWorker must run in a worker thread');
const match = createSymbolMatcher((workerData as { symbols: string[] }).symbols);

port.on('message', (req: ParseRequest) => {
  parseFeed(req.xml, match).then(
    (parsed) => port.postMessage({ id: req.id, ...parsed } satisfies ParseReply),
    (err: unknown) => port.postMessage({ id: req.id, error: String(err).slice(0, 500) } satisfies ParseReply),
  );
});
