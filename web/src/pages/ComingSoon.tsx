import { Badge, Button, Card, Center, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import { IconArrowLeft } from '@tabler/icons-react';
import { Link } from 'react-router';
import { Page } from '../components/Page';
import type { ModuleInfo } from '../modules';

/** Empty state of a module that has not shipped yet. */
export function ComingSoon({ module }: { module: ModuleInfo }) {
  const { icon: IconComponent } = module;
  return (
    <Page title={module.label} description={module.summary}>
      <Card py={64} data-testid="coming-soon">
        <Center>
          <Stack align="center" gap="md" maw={520} ta="center">
            <ThemeIcon size={64} radius="xl" variant="light">
              <IconComponent size={32} stroke={1.5} />
            </ThemeIcon>
            <Badge variant="light" color="gray" radius="sm">
              Coming soon
            </Badge>
            <Title order={2} fz={20}>
              {module.label} is on its way
            </Title>
            <Text c="dimmed">{module.description}</Text>
            <Button
              component={Link}
              to="/"
              variant="default"
              leftSection={<IconArrowLeft size={16} />}
              mt="xs"
            >
              Back to dashboard
            </Button>
          </Stack>
        </Center>
      </Card>
    </Page>
  );
}
