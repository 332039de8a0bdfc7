import { Anchor, Blockquote, Code, List, Text, Title, Typography } from '@mantine/core';
import { Fragment } from 'react';
import { type Inline, parseMarkdown } from '../../lib/markdown';

function InlineNodes({ nodes }: { nodes: Inline[] }) {
  return (
    <>
      {nodes.map((n, i) => {
        switch (n.kind) {
          case 'text':
            return <Fragment key={i}>{n.text}</Fragment>;
          case 'strong':
            return (
              <strong key={i}>
                <InlineNodes nodes={n.children} />
              </strong>
            );
          case 'em':
            return (
              <em key={i}>
                <InlineNodes nodes={n.children} />
              </em>
            );
          case 'code':
            return <Code key={i}>{n.text}</Code>;
          case 'link':
            return (
              <Anchor key={i} href={n.href} target="_blank" rel="noopener noreferrer">
                <InlineNodes nodes={n.children} />
              </Anchor>
            );
        }
      })}
    </>
  );
}

/** Renders an article's Markdown as React elements (never as HTML). */
export function Markdown({ source }: { source: string }) {
  const blocks = parseMarkdown(source);
  return (
    <Typography data-testid="markdown">
      {blocks.map((b, i) => {
        switch (b.kind) {
          case 'heading':
            return (
              <Title key={i} order={(b.level + 1) as 2 | 3 | 4 | 5} mt="sm" mb="xs">
                <InlineNodes nodes={b.children} />
              </Title>
            );
          case 'paragraph':
            return (
              <Text key={i} mb="sm">
                <InlineNodes nodes={b.children} />
              </Text>
            );
          case 'list':
            return (
              <List key={i} type={b.ordered ? 'ordered' : 'unordered'} mb="sm">
                {b.items.map((item, j) => (
                  <List.Item key={j}>
                    <InlineNodes nodes={item} />
                  </List.Item>
                ))}
              </List>
            );
          case 'code':
            return (
              <Code key={i} block mb="sm">
                {b.text}
              </Code>
            );
          case 'quote':
            return (
              <Blockquote key={i} mb="sm" p="sm">
                <InlineNodes nodes={b.children} />
              </Blockquote>
            );
        }
      })}
    </Typography>
  );
}
