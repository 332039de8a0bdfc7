import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown, safeHref } from './markdown';

describe('markdown', () => {
  it('reads headings, paragraphs, lists, code and quotes', () => {
    const blocks = parseMarkdown(
      '# Reset a password\n\nOpen **Settings** and\nchoose *Security*.\n\n- one\n- two\n\n1. first\n2. second\n\n```\ncode here\n```\n> careful',
    );
    expect(blocks.map((b) => b.kind)).toEqual(['heading', 'paragraph', 'list', 'list', 'code', 'quote']);
    expect(blocks[1]).toEqual({
      kind: 'paragraph',
      children: [
        { kind: 'text', text: 'Open ' },
        { kind: 'strong', children: [{ kind: 'text', text: 'Settings' }] },
        { kind: 'text', text: ' and choose ' },
        { kind: 'em', children: [{ kind: 'text', text: 'Security' }] },
        { kind: 'text', text: '.' },
      ],
    });
    expect(blocks[2]).toMatchObject({
      kind: 'list',
      ordered: false,
      items: [[{ text: 'one' }], [{ text: 'two' }]],
    });
    expect(blocks[3]).toMatchObject({ kind: 'list', ordered: true });
    expect(blocks[4]).toEqual({ kind: 'code', text: 'code here' });
  });

  it('keeps only safe links; a javascript: link becomes its text', () => {
    expect(parseInline('[docs](https://example.com/a)')).toEqual([
      { kind: 'link', href: 'https://example.com/a', children: [{ kind: 'text', text: 'docs' }] },
    ]);
    expect(parseInline('[x](javascript:alert(1))')[0]).toEqual({ kind: 'text', text: 'x' });
    expect(safeHref('/helpdesk/kb')).toBe('/helpdesk/kb');
    expect(safeHref('data:text/html,hi')).toBeNull();
  });

  it('leaves HTML as text', () => {
    expect(parseMarkdown('<script>alert(1)</script>')).toEqual([
      { kind: 'paragraph', children: [{ kind: 'text', text: '<script>alert(1)</script>' }] },
    ]);
  });

  it('reads inline code without formatting inside it', () => {
    expect(parseInline('run `a *b* c`')).toEqual([
      { kind: 'text', text: 'run ' },
      { kind: 'code', text: 'a *b* c' },
    ]);
  });
});
