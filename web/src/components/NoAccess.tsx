import { Button, Card, Center, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import { IconArrowLeft, IconLock } from '@tabler/icons-react';
import { Link } from 'react-router';

/** What a page shows to someone whose role does not allow it (and what a 403 turns into). */
export function NoAccess({ what }: { what?: string }) {
  return (
    <Card py={56} data-testid="no-access">
      <Center>
        <Stack align="center" gap="sm" maw={460} ta="center">
          <ThemeIcon size={56} radius="xl" variant="light" color="gray">
            <IconLock size={28} stroke={1.5} />
          </ThemeIcon>
          <Title order={2} fz={20}>
            You don&apos;t have access
          </Title>
          <Text c="dimmed">
            Your role does not allow you to see {what ?? 'this page'}. Ask an administrator of your
            organisation if you need it.
          </Text>
          <Button component={Link} to="/" variant="default" leftSection={<IconArrowLeft size={16} />} mt="xs">
            Back to dashboard
          </Button>
        </Stack>
      </Center>
    </Card>
  );
}
