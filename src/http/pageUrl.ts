// The address a person should open (pageUrl).
// The platform's public domain when there is one (Railway sets RAILWAY_PUBLIC_DOMAIN), else this machine's
// loopback at PORT. The server listens on every interface ('::'), but "0.0.0.0" is not an address to open;
// 127.0.0.1 is what `status` probes.
export function pageUrl(port: number, env: NodeJS.ProcessEnv = process.env): string {
  const domain = env.RAILWAY_PUBLIC_DOMAIN?.trim();
  if (domain) return `https://${domain}/`;
  return `http://127.0.0.1:${port}/`;
}
