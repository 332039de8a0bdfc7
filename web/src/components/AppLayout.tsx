import {
  ActionIcon,
  AppShell,
  Avatar,
  Badge,
  Box,
  Burger,
  Button,
  Divider,
  Group,
  Menu,
  NavLink,
  ScrollArea,
  Stack,
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
  IconLogout,
  IconMoon,
  IconShieldLock,
  IconSun,
  IconUser,
  type Icon,
} from '@tabler/icons-react';
import { Link, NavLink as RouterNavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useSession, useSignedIn } from '../auth/context';
import { useCan, useMe } from '../auth/me';
import { MODULES, SETTINGS } from '../modules';
import { canAny, SETTINGS_TABS } from '../pages/settings/tabs';
import { GlobalSearch } from './GlobalSearch';
import { Logo } from './Logo';
import { SecurityModal } from './SecurityModal';

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

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts;
  return letters.map((p) => p?.charAt(0).toUpperCase() ?? '').join('') || '?';
}

function UserMenu() {
  const session = useSession();
  const signedIn = useSignedIn();
  const { data: me } = useMe();
  const navigate = useNavigate();
  const [securityOpen, security] = useDisclosure(false);

  if (!signedIn) {
    return (
      <Button component={Link} to="/login" variant="light" size="xs" leftSection={<IconLogin size={16} />}>
        Sign in
      </Button>
    );
  }
  const name = me?.user?.name ?? (me ? 'API key' : '…');
  return (
    <>
      <Menu position="bottom-end" width={260} shadow="md">
        <Menu.Target>
          <UnstyledButton aria-label="User menu" data-testid="user-menu">
            <Group gap={8} wrap="nowrap">
              <Avatar radius="xl" size={32} color="meridian">
                {me?.user ? initials(me.user.name) : <IconUser size={18} stroke={1.6} />}
              </Avatar>
              <Stack gap={0} visibleFrom="sm">
                <Text size="sm" fw={500} lh={1.2} data-testid="user-name">
                  {name}
                </Text>
                {me ? (
                  <Text size="xs" c="dimmed" lh={1.2}>
                    {me.org.name}
                  </Text>
                ) : null}
              </Stack>
              <IconChevronDown size={14} stroke={1.6} />
            </Group>
          </UnstyledButton>
        </Menu.Target>
        <Menu.Dropdown>
          {me ? (
            <Box px="sm" py={6}>
              <Text size="sm" fw={600} truncate>
                {name}
              </Text>
              {me.user ? (
                <Text size="xs" c="dimmed" truncate>
                  {me.user.email}
                </Text>
              ) : null}
              <Group gap={6} mt={6} wrap="nowrap">
                <Text size="xs" c="dimmed" truncate>
                  {me.org.name}
                </Text>
                <Badge size="xs" variant="light" radius="sm" data-testid="user-role">
                  {me.role}
                </Badge>
              </Group>
            </Box>
          ) : null}
          <Menu.Divider />
          {me?.user ? (
            <Menu.Item leftSection={<IconShieldLock size={16} />} onClick={security.open}>
              Security
            </Menu.Item>
          ) : null}
          <Menu.Item
            leftSection={<IconLogout size={16} />}
            onClick={() => {
              void session.signOut();
              void navigate('/login', { replace: true });
            }}
          >
            Sign out
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>
      {me?.user ? <SecurityModal opened={securityOpen} onClose={security.close} user={me.user} /> : null}
    </>
  );
}

/** The header's search, for users who may read some CRM records. */
function HeaderSearch() {
  const signedIn = useSignedIn();
  const can = useCan();
  const any = ['companies', 'contacts', 'leads', 'deals'].some(
    (r) => can(`${r}:read`) || can(`${r}:read:own`),
  );
  return signedIn && any ? <GlobalSearch /> : null;
}

export function AppLayout() {
  const [opened, { toggle, close }] = useDisclosure(false);
  const can = useCan();
  const showSettings = SETTINGS_TABS.some((t) => canAny(can, t.permission));
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
            <HeaderSearch />
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
          {showSettings ? (
            <NavItem to={SETTINGS.path} label={SETTINGS.label} icon={SETTINGS.icon} onNavigate={close} />
          ) : null}
          <NavItem to="/status" label="Status" icon={IconHeartRateMonitor} onNavigate={close} />
        </AppShell.Section>
      </AppShell.Navbar>

      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
