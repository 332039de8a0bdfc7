import {
  ActionIcon,
  AppShell,
  Avatar,
  Burger,
  Divider,
  Group,
  Menu,
  NavLink,
  ScrollArea,
  Text,
  Tooltip,
  UnstyledButton,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import {
  IconChevronDown,
  IconHeartRateMonitor,
  IconLayoutDashboard,
  IconLogin,
  IconMoon,
  IconSun,
  IconUser,
  type Icon,
} from '@tabler/icons-react';
import { Link, NavLink as RouterNavLink, Outlet, useLocation } from 'react-router';
import { MODULES, SETTINGS } from '../modules';
import { Logo } from './Logo';

function NavItem({
  to,
  label,
  icon: IconComponent,
  end,
  onNavigate,
}: {
  to: string;
  label: string;
  icon: Icon;
  end?: boolean;
  onNavigate: () => void;
}) {
  const { pathname } = useLocation();
  const active = end ? pathname === to : pathname === to || pathname.startsWith(`${to}/`);
  return (
    <NavLink
      component={RouterNavLink}
      to={to}
      end={end}
      label={label}
      active={active}
      onClick={onNavigate}
      leftSection={<IconComponent size={18} stroke={1.6} />}
      variant="light"
      styles={{ root: { borderRadius: 'var(--mantine-radius-md)' }, label: { fontWeight: 500 } }}
    />
  );
}

function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme('light', { getInitialValueInEffect: false });
  const next = computed === 'dark' ? 'light' : 'dark';
  return (
    <Tooltip label={`Switch to ${next} theme`}>
      <ActionIcon
        variant="subtle"
        color="gray"
        size="lg"
        aria-label={`Switch to ${next} theme`}
        onClick={() => {
          setColorScheme(next);
        }}
      >
        {computed === 'dark' ? <IconSun size={18} stroke={1.6} /> : <IconMoon size={18} stroke={1.6} />}
      </ActionIcon>
    </Tooltip>
  );
}

/** Placeholder until sign-in exists (identity module). */
function UserMenu() {
  return (
    <Menu position="bottom-end" width={220} shadow="md">
      <Menu.Target>
        <UnstyledButton aria-label="User menu" data-testid="user-menu">
          <Group gap={8} wrap="nowrap">
            <Avatar radius="xl" size={32} color="meridian">
              <IconUser size={18} stroke={1.6} />
            </Avatar>
            <Text size="sm" fw={500} visibleFrom="sm">
              Guest
            </Text>
            <IconChevronDown size={14} stroke={1.6} />
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Not signed in</Menu.Label>
        <Menu.Item leftSection={<IconLogin size={16} />} disabled>
          Sign in (coming soon)
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

export function AppLayout() {
  const [opened, { toggle, close }] = useDisclosure(false);
  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 248, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding={0}
      styles={{
        main: { background: 'var(--meridian-page-bg)' },
        navbar: { background: 'var(--meridian-nav-bg)' },
      }}
    >
      <AppShell.Header px="md">
        <Group h="100%" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label="Toggle navigation"
            />
            <UnstyledButton component={Link} to="/" aria-label="Meridian home" onClick={close}>
              <Logo />
            </UnstyledButton>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <ColorSchemeToggle />
            <Divider orientation="vertical" my={14} />
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="sm" aria-label="Main navigation">
        <AppShell.Section grow component={ScrollArea} type="scroll">
          <nav aria-label="Modules">
            <NavItem to="/" end label="Dashboard" icon={IconLayoutDashboard} onNavigate={close} />
            <Text size="xs" fw={600} c="dimmed" tt="uppercase" lts={0.6} px="sm" pt="md" pb={6}>
              Modules
            </Text>
            {MODULES.map((m) => (
              <NavItem key={m.path} to={m.path} label={m.label} icon={m.icon} onNavigate={close} />
            ))}
          </nav>
        </AppShell.Section>
        <AppShell.Section>
          <Divider mb="sm" />
          <NavItem to={SETTINGS.path} label={SETTINGS.label} icon={SETTINGS.icon} onNavigate={close} />
          <NavItem to="/status" label="Status" icon={IconHeartRateMonitor} onNavigate={close} />
        </AppShell.Section>
      </AppShell.Navbar>

      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
