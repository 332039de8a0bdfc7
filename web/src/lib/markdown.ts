/**
 * A small Markdown reader for knowledge-base articles: headings, paragraphs, bullet and
 * numbered lists, fenced code, block quotes, and inline bold, italic, code and links. It
 * produces a tree of plain blocks (no HTML strings), which `Markdown.tsx` renders as React
 * elements, so an article can never inject markup or script.
 */

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'strong'; children: Inline[] }
  | { kind: 'em'; children: Inline[] }
  | { kind: 'code'; text: string }
  | { kind: 'link'; href: string; children: Inline[] };

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3 | 4; children: Inline[] }
  | { kind: 'paragraph'; children: Inline[] }
  | { kind: 'list'; ordered: boolean; items: Inline[][] }
  | { kind: 'code'; text: string }
  | { kind: 'quote'; children: Inline[] };

/** Links that may be followed: http(s), mailto, and paths in the app. */
export function safeHref(href: string): string | null {
  const h = href.trim();
  if (/^(https?:|mailto:)/i.test(h) || h.startsWith('/') || h.startsWith('#')) return h;
  return null;
}

export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push({ kind: 'text', text: buf });
    buf = '';
  };
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const code = /^`([^`]+)`/.exec(rest);
    if (code) {
      flush();
      out.push({ kind: 'code', text: code[1] ?? '' });
      i += code[0].length;
      continue;
    }
    const strong = /^\*\*(.+?)\*\*/.exec(rest) ?? /^__(.+?)__/.exec(rest);
    if (strong) {
      flush();
      out.push({ kind: 'strong', children: parseInline(strong[1] ?? '') });
      i += strong[0].length;
      continue;
    }
    const em = /^\*([^*\s][^*]*?)\*/.exec(rest) ?? /^_([^_\s][^_]*?)_/.exec(rest);
    if (em) {
      flush();
      out.push({ kind: 'em', children: parseInline(em[1] ?? '') });
      i += em[0].length;
      continue;
    }
    const link = /^\[([^\]]+)\]\(([^)\s]+)\)/.exec(rest);
    if (link) {
      const href = safeHref(link[2] ?? '');
      flush();
      if (href) out.push({ kind: 'link', href, children: parseInline(link[1] ?? '') });
      else out.push(...parseInline(link[1] ?? ''));
      i += link[0].length;
      continue;
    }
    buf += text[i] ?? '';
    i += 1;
  }
  flush();
  return out;
}

export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let para: string[] = [];
  const endParagraph = () => {
    if (para.length) blocks.push({ kind: 'paragraph', children: parseInline(para.join(' ')) });
    para = [];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.startsWith('```')) {
      endParagraph();
      const code: string[] = [];
      i += 1;
      while (i < lines.length && !(lines[i] ?? '').startsWith('```')) {
        code.push(lines[i] ?? '');
        i += 1;
      }
      blocks.push({ kind: 'code', text: code.join('\n') });
      i += 1;
      continue;
    }
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (heading) {
      endParagraph();
      const level = Math.min(4, (heading[1] ?? '#').length) as 1 | 2 | 3 | 4;
      blocks.push({ kind: 'heading', level, children: parseInline((heading[2] ?? '').trim()) });
      i += 1;
      continue;
    }
    const bullet = /^\s*([-*+]|\d+[.)])\s+/.exec(line);
    if (bullet) {
      endParagraph();
      const ordered = /\d/.test(bullet[1] ?? '');
      const items: Inline[][] = [];
      while (i < lines.length) {
        const m = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(lines[i] ?? '');
        if (!m || /\d/.test(m[1] ?? '') !== ordered) break;
        items.push(parseInline(m[2] ?? ''));
        i += 1;
      }
      blocks.push({ kind: 'list', ordered, items });
      continue;
    }
    if (/^>\s?/.test(line)) {
      endParagraph();
      const quote: string[] = [];
      while (i < lines.length && /^>\s?/.test(lines[i] ?? '')) {
        quote.push((lines[i] ?? '').replace(/^>\s?/, ''));
        i += 1;
      }
      blocks.push({ kind: 'quote', children: parseInline(quote.join(' ')) });
      continue;
    }
    if (line.trim() === '') endParagraph();
    else para.push(line.trim());
    i += 1;
  }
  endParagraph();
  return blocks;
}
