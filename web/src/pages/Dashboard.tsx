import {
  Badge,
  Button,
  Card,
  Group,
  SimpleGrid,
  Stack,
  Text,
  ThemeIcon,
  UnstyledButton,
} from '@mantine/core';
import { IconApi, IconArrowRight, IconBraces, IconHeartRateMonitor, type Icon } from '@tabler/icons-react';
import { Link } from 'react-router';
import { useHealth, useReadiness } from '../api/system';
import { Page } from '../components/Page';
import { ReadinessBadge } from '../components/StatusBadge';
import { MODULES } from '../modules';

function SystemCard() {
  const health = useHealth();
  const readiness = useReadiness();
  const state = readiness.data?.latest.state ?? 'checking';
  return (
    <Card>
      <Group justify="space-between" wrap="wrap" gap="md">
        <Group gap="md" wrap="nowrap">
          <ThemeIcon size={44} radius="md" variant="light">
            <IconHeartRateMonitor size={24} stroke={1.6} />
          </ThemeIcon>
          <Stack gap={2}>
            <Group gap="xs">
              <Text fw={600}>System status</Text>
              <ReadinessBadge state={state} />
            </Group>
            <Text size="sm" c="dimmed">
              {health.data ? `Meridian v${health.data.version}` : 'Meridian server'} · database{' '}
              {readiness.data?.latest.readiness?.database ?? 'checking'}
            </Text>
          </Stack>
        </Group>
        <Button component={Link} to="/status" variant="light" rightSection={<IconArrowRight size={16} />}>
          View status
        </Button>
      </Group>
    </Card>
  );
}

/** Pages the server itself serves (not client routes): plain links that load a new document. */
const RESOURCES: { href: string; label: string; summary: string; icon: Icon }[] = [
  {
    href: '/api/docs/',
    label: 'API reference',
    summary: 'Every endpoint, with schemas and examples',
    icon: IconApi,
  },
  {
    href: '/api/v1/openapi.json',
    label: 'OpenAPI document',
    summary: 'OpenAPI 3.1, for generating clients',
    icon: IconBraces,
  },
];

function SectionLabel({ children }: { children: string }) {
  return (
    <Text size="sm" fw={600} c="dimmed" tt="uppercase" lts={0.6}>
      {children}
    </Text>
  );
}

export function Dashboard() {
  return (
    <Page
      title="Dashboard"
      description="Your day across customers, tickets, stock, sales and equipment will gather here as the modules arrive."
    >
      <SystemCard />
      <Stack gap="sm">
        <SectionLabel>Modules</SectionLabel>
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="lg">
          {MODULES.map(({ path, label, summary, icon: IconComponent }) => (
            <UnstyledButton key={path} component={Link} to={path} aria-label={label}>
              <Card h="100%" className="meridian-hover-card">
                <Group gap="md" wrap="nowrap" align="flex-start">
                  <ThemeIcon size={40} radius="md" variant="light">
                    <IconComponent size={22} stroke={1.6} />
                  </ThemeIcon>
                  <Stack gap={4} style={{ flex: 1 }}>
                    <Group justify="space-between" wrap="nowrap">
                      <Text fw={600}>{label}</Text>
                      <Badge variant="light" color="gray" radius="sm" size="sm">
                        Soon
                      </Badge>
                    </Group>
                    <Text size="sm" c="dimmed">
                      {summary}
                    </Text>
                  </Stack>
                </Group>
              </Card>
            </UnstyledButton>
          ))}
        </SimpleGrid>
      </Stack>
      <Stack gap="sm">
        <SectionLabel>For integrators</SectionLabel>
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="lg">
          {RESOURCES.map(({ href, label, summary, icon: IconComponent }) => (
            <UnstyledButton key={href} component="a" href={href} aria-label={label}>
              <Card h="100%" className="meridian-hover-card">
                <Group gap="md" wrap="nowrap">
                  <ThemeIcon size={40} radius="md" variant="light" color="gray">
                    <IconComponent size={22} stroke={1.6} />
                  </ThemeIcon>
                  <Stack gap={2}>
                    <Text fw={600}>{label}</Text>
                    <Text size="sm" c="dimmed">
                      {summary}
                    </Text>
                  </Stack>
                </Group>
              </Card>
            </UnstyledButton>
          ))}
        </SimpleGrid>
      </Stack>
    </Page>
  );
}
