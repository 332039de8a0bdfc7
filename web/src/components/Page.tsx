import { Box, Group, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { useDocumentTitle } from '../lib/useDocumentTitle';

/** The frame every page shares: a title row and consistent spacing. */
export function Page({
  title,
  documentTitle,
  description,
  actions,
  wide = false,
  children,
}: {
  title: string;
  /** The browser tab's title, when it should say more than `title`. */
  documentTitle?: string;
  description?: ReactNode;
  actions?: ReactNode;
  /** Use the whole width (boards), not the reading width. */
  wide?: boolean;
  children: ReactNode;
}) {
  useDocumentTitle(documentTitle ?? title);
  return (
    <Box px={{ base: 'md', sm: 'xl' }} py="xl" maw={wide ? undefined : 1200} mx="auto">
      <Stack gap="xl">
        <Group justify="space-between" align="flex-end" wrap="wrap" gap="md">
          <Stack gap={4}>
            <Title order={1} fz={26}>
              {title}
            </Title>
            {description ? (
              <Text c="dimmed" size="sm" maw={680}>
                {description}
              </Text>
            ) : null}
          </Stack>
          {actions}
        </Group>
        {children}
      </Stack>
    </Box>
  );
}
