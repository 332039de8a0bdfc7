import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  NumberInput,
  Select,
  Stack,
  Table,
  TagsInput,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconPlus, IconRefresh } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import {
  type CalendarRecord,
  helpdeskKeys,
  PRIORITIES,
  type PriorityTargets,
  type SlaPolicy,
  TICKET_TYPES,
  type TypeMultipliers,
  useCalendars,
  usePolicies,
  type WeeklyHours,
} from '../../api/helpdesk';
import { useCan } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatSpans, isIsoDate, parseSpans, WEEKDAYS, weeklyHoursTotal } from '../../lib/hours';

/** Settings → SLA & hours: SLA policies (targets, multipliers, at-risk) and working calendars. */
export function SlaSettingsPage() {
  const policies = usePolicies();
  const calendars = useCalendars();
  const can = useCan();
  const api = useApi();
  const queryClient = useQueryClient();
  const createPolicy = useMutation<unknown, ApiError>({
    mutationFn: () =>
      unwrap(api.POST('/api/v1/sla-policies', { body: { name: 'New policy', is_default: false } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: helpdeskKeys.policies }),
  });
  const createCalendar = useMutation<unknown, ApiError>({
    mutationFn: () => {
      const day = [{ start: '09:00', end: '17:00' }];
      return unwrap(
        api.POST('/api/v1/calendars', {
          body: {
            name: 'Office hours',
            time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
            weekly_hours: { mon: day, tue: day, wed: day, thu: day, fri: day },
            holidays: [],
          },
        }),
      );
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: helpdeskKeys.calendars }),
  });
  return (
    <Stack gap="xl">
      <Stack gap="md">
        <Group justify="space-between">
          <Title order={2} fz={18}>
            SLA policies
          </Title>
          {can('sla:create') ? (
            <Button
              variant="default"
              leftSection={<IconPlus size={16} />}
              loading={createPolicy.isPending}
              onClick={() => {
                createPolicy.mutate();
              }}
            >
              New policy
            </Button>
          ) : null}
        </Group>
        {policies.error ? <ErrorAlert error={policies.error} what="the SLA policies" /> : null}
        {policies.data?.map((p) => (
          <PolicyCard key={`${p.id}-${p.version}`} policy={p} calendars={calendars.data ?? []} />
        ))}
      </Stack>
      <Stack gap="md">
        <Group justify="space-between">
          <Title order={2} fz={18}>
            Working calendars
          </Title>
          {can('sla:create') ? (
            <Button
              variant="default"
              leftSection={<IconPlus size={16} />}
              loading={createCalendar.isPending}
              onClick={() => {
                createCalendar.mutate();
              }}
            >
              New calendar
            </Button>
          ) : null}
        </Group>
        {calendars.error ? <ErrorAlert error={calendars.error} what="the calendars" /> : null}
        {calendars.data?.map((c) => (
          <CalendarCard key={`${c.id}-${c.version}`} calendar={c} />
        ))}
      </Stack>
    </Stack>
  );
}

function hours(minutes: number): number {
  return Math.round((minutes / 60) * 100) / 100;
}

function toMinutes(value: number | string): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? Math.round(n * 60) : 0;
}

function PolicyCard({ policy, calendars }: { policy: SlaPolicy; calendars: CalendarRecord[] }) {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const editable = can('sla:update');
  const [name, setName] = useState(policy.name);
  const [targets, setTargets] = useState<PriorityTargets>(policy.targets);
  const [multipliers, setMultipliers] = useState<TypeMultipliers>(policy.type_multipliers);
  const [atRiskPercent, setAtRiskPercent] = useState<number>(policy.at_risk_percent);
  const [atRiskMin, setAtRiskMin] = useState<number>(policy.at_risk_min_minutes);
  const [calendarId, setCalendarId] = useState<string>(policy.calendar_id);
  const save = useMutation<SlaPolicy, ApiError>({
    mutationFn: async () =>
      (
        await unwrap(
          api.PATCH('/api/v1/sla-policies/{id}', {
            params: { path: { id: policy.id } },
            body: {
              name: name.trim(),
              targets,
              type_multipliers: multipliers,
              at_risk_percent: atRiskPercent,
              at_risk_min_minutes: atRiskMin,
              calendar_id: calendarId,
              version: policy.version,
            },
          }),
        )
      ).data,
    onSuccess: async () => {
      notifications.show({
        color: 'teal',
        message: `${name} saved. Open tickets keep their deadlines until you recompute them.`,
      });
      await queryClient.invalidateQueries({ queryKey: helpdeskKeys.policies });
    },
    onError: async (error) => {
      if (error.status === 412) await queryClient.invalidateQueries({ queryKey: helpdeskKeys.policies });
    },
  });
  const makeDefault = useMutation<unknown, ApiError>({
    mutationFn: () =>
      unwrap(
        api.PATCH('/api/v1/sla-policies/{id}', {
          params: { path: { id: policy.id } },
          body: { is_default: true, version: policy.version },
        }),
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: helpdeskKeys.policies }),
  });
  const recompute = useMutation<{ tickets: number }, ApiError>({
    mutationFn: async () =>
      (await unwrap(api.POST('/api/v1/sla-policies/{id}/recompute', { params: { path: { id: policy.id } } })))
        .data,
    onSuccess: async (report) => {
      notifications.show({
        color: 'teal',
        message: `Deadlines of ${report.tickets} open ticket${report.tickets === 1 ? '' : 's'} recomputed.`,
      });
      await queryClient.invalidateQueries({ queryKey: helpdeskKeys.tickets });
    },
  });
  const setTarget = (
    priority: keyof PriorityTargets,
    field: 'response_minutes' | 'resolution_minutes',
    v: number | string,
  ) => {
    setTargets((t) => ({ ...t, [priority]: { ...t[priority], [field]: toMinutes(v) } }));
  };
  const err = save.error;
  return (
    <Card withBorder data-testid="sla-policy" aria-label={`Policy ${policy.name}`} component="section">
      <Stack gap="md">
        <Group justify="space-between" align="flex-end">
          <Group align="flex-end">
            <TextInput
              label="Name"
              value={name}
              disabled={!editable}
              onChange={(e) => {
                setName(e.currentTarget.value);
              }}
              error={err?.fieldError('name')}
            />
            <Select
              label="Calendar"
              data={calendars.map((c) => ({ value: c.id, label: c.name }))}
              value={calendarId}
              disabled={!editable}
              allowDeselect={false}
              onChange={(v) => {
                if (v) setCalendarId(v);
              }}
              comboboxProps={{ withinPortal: true }}
            />
          </Group>
          {policy.is_default ? (
            <Badge variant="light" radius="sm">
              Default for new tickets
            </Badge>
          ) : editable ? (
            <Button
              size="xs"
              variant="subtle"
              loading={makeDefault.isPending}
              onClick={() => {
                makeDefault.mutate();
              }}
            >
              Make default
            </Button>
          ) : null}
        </Group>
        <Table withTableBorder aria-label={`Targets of ${policy.name}`} maw={520}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Priority</Table.Th>
              <Table.Th>Response (business hours)</Table.Th>
              <Table.Th>Resolution (business hours)</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {PRIORITIES.map((p) => (
              <Table.Tr key={p}>
                <Table.Td>{p}</Table.Td>
                <Table.Td>
                  <NumberInput
                    aria-label={`${p} response hours`}
                    min={0}
                    step={0.5}
                    decimalScale={2}
                    value={hours(targets[p].response_minutes)}
                    disabled={!editable}
                    onChange={(v) => {
                      setTarget(p, 'response_minutes', v);
                    }}
                  />
                </Table.Td>
                <Table.Td>
                  <NumberInput
                    aria-label={`${p} resolution hours`}
                    min={0}
                    step={1}
                    decimalScale={2}
                    value={hours(targets[p].resolution_minutes)}
                    disabled={!editable}
                    onChange={(v) => {
                      setTarget(p, 'resolution_minutes', v);
                    }}
                  />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <div>
          <Text size="sm" fw={500} mb={4}>
            Resolution multiplier by type
          </Text>
          <Group gap="sm">
            {TICKET_TYPES.map((t) => (
              <NumberInput
                key={t}
                label={t}
                w={130}
                min={0.1}
                step={0.1}
                decimalScale={2}
                value={multipliers[t] ?? 1}
                disabled={!editable}
                onChange={(v) => {
                  setMultipliers((m) => ({ ...m, [t]: typeof v === 'number' ? v : Number(v) || 1 }));
                }}
              />
            ))}
          </Group>
        </div>
        <Group gap="sm" align="flex-end">
          <NumberInput
            label="At risk below (% of target left)"
            w={230}
            min={0}
            max={100}
            value={atRiskPercent}
            disabled={!editable}
            onChange={(v) => {
              setAtRiskPercent(typeof v === 'number' ? v : Number(v) || 0);
            }}
            error={err?.fieldError('at_risk_percent')}
          />
          <NumberInput
            label="…or below (minutes left)"
            w={190}
            min={0}
            value={atRiskMin}
            disabled={!editable}
            onChange={(v) => {
              setAtRiskMin(typeof v === 'number' ? v : Number(v) || 0);
            }}
            error={err?.fieldError('at_risk_min_minutes')}
          />
          <Text size="xs" c="dimmed" maw={260}>
            Whichever is larger. A ticket is At Risk from then until its deadline.
          </Text>
        </Group>
        {err && !['name', 'at_risk_percent', 'at_risk_min_minutes'].some((f) => err.fieldError(f)) ? (
          <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
            {err.status === 412
              ? 'Someone else changed this policy; the page now shows their version.'
              : ((err.fieldErrors.map((f) => `${f.field}: ${f.message}`).join('; ') || err.detail) ??
                err.title)}
          </Alert>
        ) : null}
        {editable ? (
          <Group>
            <Button
              loading={save.isPending}
              onClick={() => {
                save.mutate();
              }}
            >
              Save policy
            </Button>
            <Button
              variant="default"
              leftSection={<IconRefresh size={16} />}
              loading={recompute.isPending}
              onClick={() => {
                recompute.mutate();
              }}
            >
              Recompute open tickets
            </Button>
            <Text size="xs" c="dimmed" maw={340}>
              Changes apply to new tickets; open tickets keep their deadlines until recomputed.
            </Text>
          </Group>
        ) : null}
      </Stack>
    </Card>
  );
}

function CalendarCard({ calendar }: { calendar: CalendarRecord }) {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const editable = can('sla:update');
  const [name, setName] = useState(calendar.name);
  const [timeZone, setTimeZone] = useState(calendar.time_zone);
  const [days, setDays] = useState<Record<string, string>>(() =>
    Object.fromEntries(WEEKDAYS.map(({ key }) => [key, formatSpans(calendar.weekly_hours[key])])),
  );
  const [holidays, setHolidays] = useState<string[]>(calendar.holidays);
  const parsed = WEEKDAYS.map(({ key }) => ({ key, result: parseSpans(days[key] ?? '') }));
  const badHoliday = holidays.find((h) => !isIsoDate(h));
  const invalid = parsed.some((p) => p.result.error) || badHoliday !== undefined;
  const week: WeeklyHours = Object.fromEntries(parsed.map((p) => [p.key, p.result.spans ?? []]));
  const zones = supportedTimeZones(calendar.time_zone);
  const save = useMutation<unknown, ApiError>({
    mutationFn: () =>
      unwrap(
        api.PATCH('/api/v1/calendars/{id}', {
          params: { path: { id: calendar.id } },
          body: {
            name: name.trim(),
            time_zone: timeZone,
            weekly_hours: week,
            holidays,
            version: calendar.version,
          },
        }),
      ),
    onSuccess: async () => {
      notifications.show({ color: 'teal', message: `${name} saved.` });
      await queryClient.invalidateQueries({ queryKey: helpdeskKeys.calendars });
    },
    onError: async (error) => {
      if (error.status === 412) await queryClient.invalidateQueries({ queryKey: helpdeskKeys.calendars });
    },
  });
  const err = save.error;
  return (
    <Card withBorder data-testid="calendar" component="section" aria-label={`Calendar ${calendar.name}`}>
      <Stack gap="md">
        <Group align="flex-end" justify="space-between">
          <Group align="flex-end">
            <TextInput
              label="Name"
              value={name}
              disabled={!editable}
              onChange={(e) => {
                setName(e.currentTarget.value);
              }}
              error={err?.fieldError('name')}
            />
            <Select
              label="Time zone"
              searchable
              data={zones}
              value={timeZone}
              disabled={!editable}
              allowDeselect={false}
              onChange={(v) => {
                if (v) setTimeZone(v);
              }}
              error={err?.fieldError('time_zone')}
              comboboxProps={{ withinPortal: true }}
            />
          </Group>
          <Group gap="xs">
            {calendar.is_default ? (
              <Badge variant="light" radius="sm">
                Default
              </Badge>
            ) : null}
            <Text size="sm" c="dimmed">
              {weeklyHoursTotal(week)} business hours a week
            </Text>
          </Group>
        </Group>
        <Table aria-label={`Weekly hours of ${calendar.name}`} maw={560}>
          <Table.Tbody>
            {WEEKDAYS.map(({ key, label }) => {
              const error = parsed.find((p) => p.key === key)?.result.error;
              return (
                <Table.Tr key={key}>
                  <Table.Td w={120}>{label}</Table.Td>
                  <Table.Td>
                    <TextInput
                      aria-label={`${label} hours`}
                      placeholder="Closed"
                      value={days[key] ?? ''}
                      disabled={!editable}
                      onChange={(e) => {
                        const value = e.currentTarget.value;
                        setDays((d) => ({ ...d, [key]: value }));
                      }}
                      error={error}
                    />
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
        <Text size="xs" c="dimmed">
          Hours like 09:00-12:00, 13:00-17:00 (local time); empty means closed. 00:00-24:00 is the whole day.
        </Text>
        <TagsInput
          label="Holidays"
          description="Days off, as YYYY-MM-DD (press Enter after each)"
          value={holidays}
          disabled={!editable}
          onChange={setHolidays}
          error={badHoliday ? `${badHoliday} is not a date like 2026-12-25` : err?.fieldError('holidays')}
          maw={560}
        />
        {err && !['name', 'time_zone', 'holidays'].some((f) => err.fieldError(f)) ? (
          <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
            {err.status === 412
              ? 'Someone else changed this calendar; the page now shows their version.'
              : ((err.fieldErrors.map((f) => `${f.field}: ${f.message}`).join('; ') || err.detail) ??
                err.title)}
          </Alert>
        ) : null}
        {editable ? (
          <Group>
            <Button
              disabled={invalid}
              loading={save.isPending}
              onClick={() => {
                save.mutate();
              }}
            >
              Save calendar
            </Button>
            <Text size="xs" c="dimmed">
              Open tickets keep their deadlines until their policy is recomputed.
            </Text>
          </Group>
        ) : null}
      </Stack>
    </Card>
  );
}

/** IANA time zones the browser knows, with the current one kept even if it does not. */
function supportedTimeZones(current: string): string[] {
  const intl = Intl as { supportedValuesOf?: (key: string) => string[] };
  const zones = intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : [];
  const all = new Set(['UTC', ...zones]);
  all.add(current);
  return [...all];
}
