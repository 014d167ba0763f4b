// An in-process TCP proxy on 127.0.0.1 (port 0) for fault injection between a client and a server
// (PostgreSQL, the feed): tc netem and network namespaces are not available on these machines.
//   pass      forward everything (the default)
//   blackhole accept, never forward, never answer (existing links go silent too): only timeouts notice
//   partition as blackhole, and a side that closes is not told to the other (a lost host: the server's
//             backend lives on until its own timeouts)
//   refuse    close the listener (ECONNREFUSED); existing links stay
//   reset     RST every existing link, and every new one at once
//   close     FIN every existing link, and every new one at once
import net from 'node:net';

export type ProxyMode = 'pass' | 'blackhole' | 'partition' | 'refuse' | 'reset' | 'close';

export interface TcpProxy {
  readonly port: number;
  readonly mode: ProxyMode;
  /** Links accepted since start. */
  readonly accepted: number;
  /** Links open now. */
  readonly open: number;
  setMode(mode: ProxyMode): Promise<void>;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket | null;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  let accepted = 0;
  const links = new Set<Link>();
  /** Upstreams whose client closed during a partition: kept open (the server never heard), ended by close(). */
  const orphans = new Set<net.Socket>();
  const silent = () => mode === 'blackhole' || mode === 'partition';
  let server: net.Server | null = null;
  let port = 0;

  const kill = (l: Link, how: 'reset' | 'close') => {
    for (const s of [l.client, l.upstream]) {
      if (!s || s.destroyed) continue;
      if (how === 'reset') s.resetAndDestroy();
      else s.end();
    }
    links.delete(l);
  };

  const onConnection = (client: net.Socket) => {
    accepted++;
    const link: Link = { client, upstream: null };
    links.add(link);
    client.on('error', () => undefined);
    client.on('close', () => {
      if (mode === 'partition' && link.upstream) orphans.add(link.upstream);
      else link.upstream?.destroy();
      links.delete(link);
    });
    if (mode === 'reset' || mode === 'close') return kill(link, mode);
    if (silent()) return; // accepted, never forwarded
    const upstream = net.connect(target.port, target.host);
    link.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (d) => {
      if (!silent()) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!silent()) client.write(d);
    });
    client.on('end', () => {
      if (mode !== 'partition') upstream.end();
    });
    upstream.on('end', () => client.end());
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const unlisten = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = null;
      if (!s) return resolve();
      // The listener stops accepting at once; close()'s callback would wait for every open link to end.
      s.close();
      resolve();
    });

  await listen();

  return {
    get port() {
      return port;
    },
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    get open() {
      return links.size;
    },
    async setMode(next) {
      mode = next;
      if (next === 'refuse') return unlisten();
      if (!server) await listen();
      if (next === 'reset' || next === 'close') for (const l of [...links]) kill(l, next);
    },
    async close() {
      for (const l of [...links]) kill(l, 'reset');
      for (const u of orphans) u.destroy();
      orphans.clear();
      await unlisten();
    },
  };
}
