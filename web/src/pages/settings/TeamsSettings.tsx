import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Select,
  Stack,
  Switch,
  Table,
  TagsInput,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconPlus, IconTrash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, useState } from 'react';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import {
  ASSIGNMENT_METHODS,
  type AssignmentMethod,
  cleanTags,
  helpdeskKeys,
  type NewTeam,
  type Team,
  type TeamMember,
  type TeamPatch,
  methodLabel,
  useTeamMembers,
  useTeams,
} from '../../api/helpdesk';
import { useCan } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PageLoader } from '../../components/PageLoader';
import { usePeople } from '../helpdesk/people';

function isAssignmentMethod(value: string | null): value is AssignmentMethod {
  return ASSIGNMENT_METHODS.some((m) => m.value === value);
}

/** The problem of a refused change: the first field's message, else the detail. */
function problemText(error: ApiError): string {
  const field = error.fieldErrors[0];
  return field ? `${field.field}: ${field.message}` : (error.detail ?? error.title);
}

/**
 * Settings → Teams: the helpdesk's support teams, how each assigns its new tickets
 * (manual, round robin, fewest open tickets; optionally only to members whose skills match
 * the ticket's tags), and their members with skills.
 */
export function TeamsSettingsPage() {
  const teams = useTeams();
  const can = useCan();
  const [selected, setSelected] = useState<string | null>(null);
  const manage = can('tickets:manage');
  if (teams.error)
    return <ErrorAlert error={teams.error} what="the teams" onRetry={() => void teams.refetch()} />;
  if (!teams.data) return <PageLoader />;
  const team = teams.data.find((t) => t.id === selected);
  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <Title order={2} fz={18}>
          Support teams
        </Title>
      </Group>
      {manage ? <NewTeamForm onCreated={setSelected} /> : null}
      {teams.data.length === 0 ? (
        <Text c="dimmed" data-testid="teams-empty">
          No teams yet.
        </Text>
      ) : (
        <Table highlightOnHover aria-label="Teams" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Assignment</Table.Th>
              <Table.Th>Members</Table.Th>
              <Table.Th>Visibility</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {teams.data.map((t) => (
              <Table.Tr
                key={t.id}
                data-testid="team-row"
                data-team-id={t.id}
                onClick={() => {
                  setSelected(t.id);
                }}
                style={{ cursor: 'pointer' }}
                aria-selected={t.id === selected}
              >
                <Table.Td>
                  <Button
                    variant="subtle"
                    size="compact-sm"
                    onClick={(e) => {
                      e.stopPropagation();
                      setSelected(t.id);
                    }}
                  >
                    {t.name}
                  </Button>
                </Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    <Text size="sm" data-testid="team-method">
                      {methodLabel(t.assignment_method)}
                    </Text>
                    {t.assign_by_skill ? (
                      <Badge size="sm" variant="light" radius="sm">
                        by skill
                      </Badge>
                    ) : null}
                  </Group>
                </Table.Td>
                <Table.Td data-testid="team-member-count">{t.member_ids.length}</Table.Td>
                <Table.Td>
                  {t.restricted ? (
                    <Badge size="sm" color="grape" variant="light" radius="sm">
                      restricted
                    </Badge>
                  ) : (
                    <Text size="sm" c="dimmed">
                      everyone
                    </Text>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {team ? <TeamEditor key={team.id} team={team} manage={manage} /> : null}
    </Stack>
  );
}

function NewTeamForm({ onCreated }: { onCreated: (id: string) => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const create = useMutation<Team, ApiError, NewTeam>({
    mutationFn: async (body) => (await unwrap(api.POST('/api/v1/teams', { body }))).data,
    onSuccess: async (team) => {
      setName('');
      notifications.show({ color: 'teal', message: `Team ${team.name} created.` });
      await queryClient.invalidateQueries({ queryKey: helpdeskKeys.teams });
      onCreated(team.id);
    },
  });
  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    create.mutate({ name: name.trim() });
  };
  return (
    <form onSubmit={onSubmit} aria-label="New team" noValidate>
      <Group align="flex-start" gap="xs">
        <TextInput
          aria-label="New team name"
          placeholder="New team name"
          value={name}
          onChange={(e) => {
            setName(e.currentTarget.value);
          }}
          error={create.error ? problemText(create.error) : undefined}
          w={280}
        />
        <Button
          type="submit"
          variant="default"
          leftSection={<IconPlus size={16} />}
          loading={create.isPending}
        >
          Create team
        </Button>
      </Group>
    </form>
  );
}

/** A team's settings and its members, saved separately (PATCH the team, PUT the members). */
export function TeamEditor({ team, manage }: { team: Team; manage: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState(team.name);
  const [method, setMethod] = useState<AssignmentMethod>(team.assignment_method);
  const [bySkill, setBySkill] = useState(team.assign_by_skill);
  const [restricted, setRestricted] = useState(team.restricted);
  const save = useMutation<Team, ApiError, TeamPatch>({
    mutationFn: async (body) =>
      (await unwrap(api.PATCH('/api/v1/teams/{id}', { params: { path: { id: team.id } }, body }))).data,
    onSuccess: async (saved) => {
      notifications.show({ color: 'teal', message: `Team ${saved.name} saved.` });
      await queryClient.invalidateQueries({ queryKey: helpdeskKeys.teams });
    },
  });
  const changed =
    name.trim() !== team.name ||
    method !== team.assignment_method ||
    bySkill !== team.assign_by_skill ||
    restricted !== team.restricted;
  return (
    <Card withBorder data-testid="team-editor">
      <Stack gap="sm">
        <Title order={3} fz={16}>
          {team.name}
        </Title>
        <Group align="flex-end" gap="md" wrap="wrap">
          <TextInput
            label="Name"
            value={name}
            disabled={!manage}
            onChange={(e) => {
              setName(e.currentTarget.value);
            }}
            error={save.error?.fieldError('name')}
          />
          <Select
            label="Assignment method"
            data={ASSIGNMENT_METHODS.map((m) => ({ value: m.value, label: m.label }))}
            value={method}
            disabled={!manage}
            allowDeselect={false}
            onChange={(v) => {
              if (isAssignmentMethod(v)) setMethod(v);
            }}
            error={save.error?.fieldError('assignment_method')}
            comboboxProps={{ withinPortal: true }}
          />
        </Group>
        <Switch
          label="Assign by skill: only members with a skill matching one of the ticket's tags"
          checked={bySkill}
          disabled={!manage}
          onChange={(e) => {
            setBySkill(e.currentTarget.checked);
          }}
        />
        <Switch
          label="Restricted: only members (and managers) see its tickets"
          checked={restricted}
          disabled={!manage}
          onChange={(e) => {
            setRestricted(e.currentTarget.checked);
          }}
        />
        {method === 'manual' ? (
          <Text size="xs" c="dimmed">
            New tickets of this team stay unassigned until someone assigns them.
          </Text>
        ) : (
          <Text size="xs" c="dimmed">
            A new ticket of this team opened without an assignee goes to{' '}
            {method === 'round_robin' ? 'the next member in turn' : 'the member with the fewest open tickets'}
            {bySkill ? ' whose skills match its tags' : ''}.
          </Text>
        )}
        {save.error && !save.error.fieldError('name') && !save.error.fieldError('assignment_method') ? (
          <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
            {problemText(save.error)}
          </Alert>
        ) : null}
        {manage ? (
          <Group>
            <Button
              disabled={!changed}
              loading={save.isPending}
              onClick={() => {
                const patch: TeamPatch = {};
                if (name.trim() !== team.name) patch.name = name.trim();
                if (method !== team.assignment_method) patch.assignment_method = method;
                if (bySkill !== team.assign_by_skill) patch.assign_by_skill = bySkill;
                if (restricted !== team.restricted) patch.restricted = restricted;
                save.mutate(patch);
              }}
            >
              Save team
            </Button>
          </Group>
        ) : null}
        <MembersEditor team={team} manage={manage} />
      </Stack>
    </Card>
  );
}

/** The team's members with their skills; "Save members" replaces the list on the server. */
export function MembersEditor({ team, manage }: { team: Team; manage: boolean }) {
  const members = useTeamMembers(team.id);
  if (members.error) return <ErrorAlert error={members.error} what="the members" />;
  if (!members.data) return <PageLoader />;
  return <MembersForm team={team} initial={members.data} manage={manage} />;
}

function MembersForm({ team, initial, manage }: { team: Team; initial: TeamMember[]; manage: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const people = usePeople();
  const [rows, setRows] = useState<TeamMember[]>(initial);
  const [adding, setAdding] = useState<string | null>(null);
  const save = useMutation<TeamMember[], ApiError, TeamMember[]>({
    mutationFn: async (body) =>
      (await unwrap(api.PUT('/api/v1/teams/{id}/members', { params: { path: { id: team.id } }, body }))).data,
    onSuccess: async (saved) => {
      setRows(saved);
      queryClient.setQueryData(helpdeskKeys.teamMembers(team.id), saved);
      notifications.show({ color: 'teal', message: `Members of ${team.name} saved.` });
      await queryClient.invalidateQueries({ queryKey: helpdeskKeys.teams });
    },
  });
  const nameOf = (id: string) => {
    const name = people.nameOf(id);
    return name === 'Someone' ? `User ${id.slice(0, 8)}` : name;
  };
  const candidates = people.list
    .filter((p) => !rows.some((r) => r.user_id === p.id))
    .map((p) => ({ value: p.id, label: people.nameOf(p.id) }));
  const rowError = (i: number) =>
    save.error?.fieldError(`[${i}].skills`) ?? save.error?.fieldError(`[${i}].user_id`);
  return (
    <Stack gap="xs" data-testid="team-members">
      <Title order={4} fz={14} mt="sm">
        Members
      </Title>
      {rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          No members yet.
        </Text>
      ) : null}
      {rows.map((m, i) => (
        <Group key={m.user_id} gap="xs" align="flex-start" wrap="nowrap" data-testid="member-row">
          <Text size="sm" w={200} pt={6} truncate>
            {nameOf(m.user_id)}
          </Text>
          <TagsInput
            aria-label={`Skills of ${nameOf(m.user_id)}`}
            placeholder="Skills (matched against ticket tags)"
            value={m.skills ?? []}
            disabled={!manage}
            onChange={(skills) => {
              setRows((all) => all.map((r, j) => (j === i ? { ...r, skills: cleanTags(skills) } : r)));
            }}
            error={rowError(i)}
            style={{ flex: 1 }}
          />
          {manage ? (
            <ActionIcon
              variant="subtle"
              color="red"
              aria-label={`Remove ${nameOf(m.user_id)}`}
              mt={4}
              onClick={() => {
                setRows((all) => all.filter((_, j) => j !== i));
              }}
            >
              <IconTrash size={16} />
            </ActionIcon>
          ) : null}
        </Group>
      ))}
      {manage ? (
        <>
          <Group gap="xs" align="flex-end">
            <Select
              label="Add member"
              placeholder={people.list.length === 0 ? 'No users to choose from' : 'Choose a user'}
              searchable
              data={candidates}
              value={adding}
              onChange={(v) => {
                if (v) {
                  setRows((all) => [...all, { user_id: v, skills: [] }]);
                  setAdding(null);
                } else setAdding(null);
              }}
              comboboxProps={{ withinPortal: true }}
              w={280}
            />
          </Group>
          {save.error && !rows.some((_, i) => rowError(i)) ? (
            <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
              {problemText(save.error)}
            </Alert>
          ) : null}
          <Group>
            <Button
              variant="default"
              loading={save.isPending}
              onClick={() => {
                save.mutate(rows.map((r) => ({ user_id: r.user_id, skills: r.skills ?? [] })));
              }}
            >
              Save members
            </Button>
          </Group>
        </>
      ) : null}
    </Stack>
  );
}
