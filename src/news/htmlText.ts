// HTML to plain text for feed titles and summaries (htmlToText, decodeEntities, truncate).
// Feed titles and summaries arrive as HTML (CDATA, escaped markup, double-escaped entities). We store plain
// text: tags removed, entities decoded, whitespace collapsed, NULs dropped (PostgreSQL text rejects them).

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  hellip: '…',
  bull: '•',
  middot: '·',
  copy: '©',
  reg: '®',
  trade: '™',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  deg: '°',
  times: '×',
};

// Tags after which words must not run together ("AAPL</p><p>rises" is two words).
const BLOCK_TAG =
  /<\/?(?:p|br|div|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|section|article|header|footer|hr|img|figure|figcaption)\b[^>]*>/gi;

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z][a-z0-9]{1,7});/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code =
        body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)
        ? String.fromCodePoint(code)
        : ' ';
    }
    return NAMED[body.toLowerCase()] ?? whole;
  });
}

/** HTML (or plain text) to one line of text, at most `max` characters. Null when nothing is left. */
export function htmlToText(html: unknown, max: number): string | null {
  if (typeof html !== 'string' || html === '') return null;
  // Twice: double-escaped markup ("&lt;p&gt;") only shows its tags after the entities are decoded.
  const text = stripTags(decodeEntities(stripTags(html)))
    .replace(/\u0000/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (text === '') return null;
  return truncate(text, max);
}

function stripTags(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(BLOCK_TAG, ' ')
    .replace(/<\/?[A-Za-z][^>]*>/g, '');
}

export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  // Break at a word when one is near the end, else mid-word.
  return `${space > max * 0.8 ? cut.slice(0, space) : cut}…`;
}
