import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Team, TeamMember } from '../../api/helpdesk';
import type { User } from '../../api/identity';
import {
  ADMIN,
  json,
  meAs,
  meridianProblem,
  mockServer,
  pickOption,
  renderApp,
  signedIn,
} from '../../test/utils';

const TEAM: Team = {
  id: '00000000-0000-7000-8000-0000000000a1',
  name: 'Field service',
  member_ids: [],
  restricted: false,
  created_at: '2026-03-01T10:00:00Z',
  assignment_method: 'manual',
  assign_by_skill: false,
};

function user(id: string, name: string): User {
  return {
    id,
    email: `${name.toLowerCase()}@acme.test`,
    name,
    role: 'Support Agent',
    role_id: 'r1',
    scope: { site_ids: [], division_ids: [] },
    active: true,
    totp_enabled: false,
    created_at: '2026-03-01T10:00:00Z',
    version: 1,
  };
}

const ALICE = user('00000000-0000-7000-8000-0000000000b1', 'Alice');
const BOB = user('00000000-0000-7000-8000-0000000000b2', 'Bob');

describe('Settings → Teams', () => {
  it('creates a team and lists it', async () => {
    const u = userEvent.setup();
    let teams: Team[] = [];
    const posted: unknown[] = [];
    mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/teams': () => json({ data: teams }),
      'POST /api/v1/teams': async (r) => {
        const body = (await r.json()) as { name: string };
        posted.push(body);
        if (!body.name)
          return meridianProblem(422, 'validation_failed', {
            errors: [{ field: 'name', message: 'must be 1 to 100 characters' }],
          });
        teams = [{ ...TEAM, name: body.name }];
        return json({ data: teams[0] }, 201);
      },
      [`GET /api/v1/teams/${TEAM.id}/members`]: () => json({ data: [] }),
      'GET /api/v1/users': () => json({ data: [ALICE, BOB], meta: { next_cursor: null, limit: 200 } }),
    });
    renderApp('/settings/teams');
    expect(await screen.findByTestId('teams-empty')).toBeInTheDocument();
    // the server's field error shows next to the empty name
    await u.click(screen.getByRole('button', { name: 'Create team' }));
    expect(await screen.findByText('name: must be 1 to 100 characters')).toBeInTheDocument();
    await u.type(screen.getByRole('textbox', { name: 'New team name' }), 'Field service');
    await u.click(screen.getByRole('button', { name: 'Create team' }));
    const row = await screen.findByTestId('team-row');
    expect(row).toHaveTextContent('Field service');
    expect(within(row).getByTestId('team-method')).toHaveTextContent('Manual');
    expect(posted).toEqual([{ name: '' }, { name: 'Field service' }]);
    // the new team opens in the editor
    expect(await screen.findByTestId('team-editor')).toHaveTextContent('Field service');
  });

  it('sets round robin by skill, and saves members with their skills', async () => {
    const u = userEvent.setup();
    let team = TEAM;
    let members: TeamMember[] = [{ user_id: ALICE.id, skills: ['hvac'] }];
    const patches: unknown[] = [];
    const puts: unknown[] = [];
    mockServer({
      ...signedIn(ADMIN),
      'GET /api/v1/teams': () => json({ data: [team] }),
      [`PATCH /api/v1/teams/${TEAM.id}`]: async (r) => {
        const body = (await r.json()) as Partial<Team>;
        patches.push(body);
        team = { ...team, ...body };
        return json({ data: team });
      },
      [`GET /api/v1/teams/${TEAM.id}/members`]: () => json({ data: members }),
      [`PUT /api/v1/teams/${TEAM.id}/members`]: async (r) => {
        members = (await r.json()) as TeamMember[];
        puts.push(members);
        team = { ...team, member_ids: members.map((m) => m.user_id) };
        return json({ data: members });
      },
      'GET /api/v1/users': () => json({ data: [ALICE, BOB], meta: { next_cursor: null, limit: 200 } }),
    });
    renderApp('/settings/teams');
    await u.click(await screen.findByRole('button', { name: 'Field service' }));
    const editor = await screen.findByTestId('team-editor');
    const save = within(editor).getByRole('button', { name: 'Save team' });
    expect(save).toBeDisabled();
    await pickOption(u, within(editor).getByRole('combobox', { name: 'Assignment method' }), 'Round robin');
    await u.click(within(editor).getByRole('switch', { name: /Assign by skill/ }));
    expect(
      within(editor).getByText(/goes to the next member in turn whose skills match its tags/),
    ).toBeInTheDocument();
    await u.click(save);
    await waitFor(() => {
      expect(patches).toEqual([{ assignment_method: 'round_robin', assign_by_skill: true }]);
    });
    await waitFor(() => {
      expect(within(screen.getByTestId('team-row')).getByTestId('team-method')).toHaveTextContent(
        'Round robin',
      );
    });

    // Alice is a member with her skill; add Bob with two skills (cleaned like the server does)
    const list = within(editor).getByTestId('team-members');
    expect(await within(list).findByText('Alice')).toBeInTheDocument();
    await pickOption(u, within(list).getByRole('combobox', { name: 'Add member' }), 'Bob');
    const bobSkills = await within(list).findByLabelText('Skills of Bob');
    await u.type(bobSkills, 'Refrigeration{enter}hvac{enter}');
    await u.click(within(list).getByRole('button', { name: 'Save members' }));
    await waitFor(() => {
      expect(puts).toEqual([
        [
          { user_id: ALICE.id, skills: ['hvac'] },
          { user_id: BOB.id, skills: ['refrigeration', 'hvac'] },
        ],
      ]);
    });
    await waitFor(() => {
      expect(within(screen.getByTestId('team-row')).getByTestId('team-member-count')).toHaveTextContent('2');
    });
  });

  it('is not offered to a role without tickets:manage', async () => {
    mockServer({ ...signedIn(meAs('Agent', ['tickets:read', 'users:read'])) });
    renderApp('/settings/teams');
    expect(await screen.findByTestId('no-access')).toBeInTheDocument();
    expect(screen.queryByRole('tab', { name: 'Teams' })).toBeNull();
  });
});
