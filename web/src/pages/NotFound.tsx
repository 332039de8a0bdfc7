import { Button, Card, Center, Code, Stack, Text, Title } from '@mantine/core';
import { IconArrowLeft, IconCompass } from '@tabler/icons-react';
import { Link, useLocation } from 'react-router';
import { Page } from '../components/Page';

export function NotFound() {
  const { pathname } = useLocation();
  return (
    <Page title="Page not found">
      <Card py={64} data-testid="not-found">
        <Center>
          <Stack align="center" gap="md" maw={520} ta="center">
            <IconCompass size={56} stroke={1.2} color="var(--mantine-color-dimmed)" />
            <Title order={2} fz={20}>
              404 · Nothing lives here
            </Title>
            <Text c="dimmed">
              There is no page at <Code>{pathname}</Code>. It may have moved, or the link may be mistyped.
            </Text>
            <Button component={Link} to="/" leftSection={<IconArrowLeft size={16} />} mt="xs">
              Go to dashboard
            </Button>
          </Stack>
        </Center>
      </Card>
    </Page>
  );
}
