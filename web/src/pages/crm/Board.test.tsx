import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Board, Deal } from '../../api/crm';
import { board, COMPANY, deal, PIPELINE, PIPELINE_ID, STAGES } from '../../test/crm';
import {
  ADMIN,
  calls,
  json,
  meridianProblem,
  mockServer,
  renderApp,
  type Routes,
  signedIn,
} from '../../test/utils';
import { describeChanges, dropTarget, moveDeal } from './boardState';

const LEAD = 'stage-lead';
const QUALIFIED = 'stage-qualified';
const PROPOSAL = 'stage-proposal';
const stageName = (id: string) => STAGES.find((s) => s.id === id)?.name ?? id;

describe('board state', () => {
  const a = deal('a', LEAD, 0);
  const b = deal('b', LEAD, 1);
  const c = deal('c', QUALIFIED, 0);
  const start = board({ Lead: [a, b], Qualified: [c] });
  const ids = (bd: Board, name: string) =>
    bd.columns.find((col) => col.stage.name === name)?.deals.map((d) => d.id);

  it('moves a deal to another stage at a position, with counts, stage and probability', () => {
    const next = moveDeal(start, 'a', QUALIFIED, 1);
    expect(ids(next, 'Lead')).toEqual(['b']);
    expect(ids(next, 'Qualified')).toEqual(['c', 'a']);
    expect(next.columns.map((col) => col.count)).toEqual([1, 2, 0, 0]);
    const moved = next.columns[1]?.deals[1];
    expect(moved).toMatchObject({ id: 'a', stage_id: QUALIFIED, position: 1, probability: 25, version: 3 });
    // the input is left alone: it is the snapshot a refused move goes back to
    expect(ids(start, 'Lead')).toEqual(['a', 'b']);
  });

  it('reorders within a stage and clamps positions', () => {
    expect(ids(moveDeal(start, 'a', LEAD, 1), 'Lead')).toEqual(['b', 'a']);
    expect(ids(moveDeal(start, 'b', LEAD, 0), 'Lead')).toEqual(['b', 'a']);
    expect(ids(moveDeal(start, 'a', PROPOSAL, 99), 'Proposal')).toEqual(['a']);
    expect(moveDeal(start, 'nope', LEAD, 0)).toBe(start);
  });

  it('turns a drop into a move request, or none when nothing moves', () => {
    const over = (id: string, data: Record<string, unknown>, top = 0) => ({
      id,
      data: { current: data },
      rect: { top, height: 40, left: 0, width: 200, bottom: top + 40, right: 200 },
      disabled: false,
    });
    const active = (top: number) => ({
      id: 'a',
      data: { current: { type: 'deal', stageId: LEAD } },
      rect: {
        current: {
          initial: null,
          translated: { top, height: 40, left: 0, width: 200, bottom: top + 40, right: 200 },
        },
      },
    });
    // onto another column: its end
    expect(
      dropTarget(start, {
        active: active(0),
        over: over(`stage:${PROPOSAL}`, { type: 'stage', stageId: PROPOSAL }),
      }),
    ).toEqual({
      deal: a,
      toStageId: PROPOSAL,
      index: 0,
    });
    // onto a card of another column, below its middle: after it
    expect(
      dropTarget(start, { active: active(30), over: over('c', { type: 'deal', stageId: QUALIFIED }, 0) })
        ?.index,
    ).toBe(1);
    expect(
      dropTarget(start, { active: active(-30), over: over('c', { type: 'deal', stageId: QUALIFIED }, 0) })
        ?.index,
    ).toBe(0);
    // onto itself: no move
    expect(
      dropTarget(start, { active: active(0), over: over('a', { type: 'deal', stageId: LEAD }) }),
    ).toBeNull();
    expect(dropTarget(start, { active: active(0), over: null })).toBeNull();
  });

  it('describes what someone else changed', () => {
    const theirs: Deal = { ...a, stage_id: PROPOSAL, amount: '2000.00', version: 4 };
    expect(describeChanges(a, theirs, stageName)).toEqual([
      { field: 'Stage', mine: 'Lead', theirs: 'Proposal' },
      { field: 'Amount', mine: '1000.00 EUR', theirs: '2000.00 EUR' },
    ]);
  });
});

describe('pipeline board', () => {
  let patchAnswer: (request: Request) => Promise<Response> | Response;
  let serverBoard: Board;
  let patchBodies: unknown[];
  let fetchMock: ReturnType<typeof mockServer>;

  beforeEach(() => {
    const mine = deal('a', LEAD, 0, { title: 'Cooler placement' });
    serverBoard = board({ Lead: [mine, deal('b', LEAD, 1)] });
    patchBodies = [];
    patchAnswer = () => json({ data: { ...mine, stage_id: QUALIFIED, version: 4 } });
    const routes: Routes = {
      ...signedIn(ADMIN),
      'GET /api/v1/pipelines': () => json({ data: [PIPELINE] }),
      [`GET /api/v1/pipelines/${PIPELINE_ID}/board`]: () => json({ data: serverBoard }),
      'GET /api/v1/companies/company-1': () => json({ data: COMPANY }),
      'PATCH /api/v1/deals/a': async (request) => {
        patchBodies.push(await request.clone().json());
        return patchAnswer(request);
      },
    };
    fetchMock = mockServer(routes);
  });

  const column = (name: string) => screen.getByRole('region', { name: `Stage ${name}` });
  const moveVia = async (title: string, to: string) => {
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: `Move ${title}` }));
    await user.click(await screen.findByRole('menuitem', { name: to }));
  };

  it('shows columns with counts and per-currency totals, and cards with amount and company', async () => {
    renderApp('/crm');
    const lead = await screen.findByRole('region', { name: 'Stage Lead' });
    expect(within(lead).getByTestId('column-count')).toHaveTextContent('2');
    expect(within(lead).getByTestId('column-total')).toHaveTextContent(/€1,000 · weighted €100/);
    const card = within(lead)
      .getByRole('link', { name: 'Cooler placement' })
      .closest('[data-testid="deal-card"]');
    expect(card).toHaveTextContent('€1,000');
    await waitFor(() => {
      expect(card).toHaveTextContent('Northwind Traders');
    });
    expect(within(column('Proposal')).getByText('No deals')).toBeInTheDocument();
  });

  it('moves the card at once and sends the move with the card version', async () => {
    let release: (r: Response) => void = () => undefined;
    patchAnswer = () =>
      new Promise<Response>((resolve) => {
        release = resolve;
      });
    renderApp('/crm');
    await screen.findByRole('region', { name: 'Stage Lead' });
    await moveVia('Cooler placement', 'Qualified');
    // optimistic: in the new column before the server answered
    expect(within(column('Qualified')).getByRole('link', { name: 'Cooler placement' })).toBeInTheDocument();
    expect(within(column('Lead')).queryByRole('link', { name: 'Cooler placement' })).toBeNull();
    await waitFor(() => {
      expect(patchBodies).toEqual([{ stage_id: QUALIFIED, position: 0, version: 3 }]);
    });
    const saved = deal('a', QUALIFIED, 0, { title: 'Cooler placement', version: 4 });
    serverBoard = board({ Lead: [deal('b', LEAD, 0)], Qualified: [saved] });
    release(json({ data: saved }));
    await waitFor(() => {
      expect(
        calls(fetchMock).filter((r) => new URL(r.url).pathname.endsWith('/board')).length,
      ).toBeGreaterThan(1);
    });
    expect(screen.queryByTestId('conflict-notice')).toBeNull();
    expect(within(column('Qualified')).getByRole('link', { name: 'Cooler placement' })).toBeInTheDocument();
  });

  it('on 412 puts the card back, says what changed, and shows the server version', async () => {
    const current = deal('a', PROPOSAL, 0, { title: 'Cooler placement', amount: '1500.00', version: 5 });
    patchAnswer = () =>
      meridianProblem(412, 'precondition_failed', {
        detail: 'the record changed since you read it',
        current,
      });
    renderApp('/crm');
    await screen.findByRole('region', { name: 'Stage Lead' });
    // after the refusal the board is read again: the server now has the deal in Proposal
    serverBoard = board({ Proposal: [current], Lead: [deal('b', LEAD, 0)] });
    await moveVia('Cooler placement', 'Qualified');
    const notice = await screen.findByTestId('conflict-notice');
    expect(notice).toHaveTextContent('“Cooler placement” was changed by someone else');
    expect(notice).toHaveTextContent('Your move was not saved');
    expect(notice).toHaveTextContent('Stage: now Proposal (you saw Lead)');
    expect(notice).toHaveTextContent('Amount: now 1500.00 EUR (you saw 1000.00 EUR)');
    await waitFor(() => {
      expect(within(column('Proposal')).getByRole('link', { name: 'Cooler placement' })).toBeInTheDocument();
    });
    expect(within(column('Qualified')).queryByRole('link', { name: 'Cooler placement' })).toBeNull();
    // exactly one attempt: a conflict is never retried or overwritten
    expect(patchBodies).toHaveLength(1);
  });

  it('on 403 puts the card back and says only own deals can be moved', async () => {
    patchAnswer = () => meridianProblem(403, 'forbidden', { detail: 'not the owner' });
    renderApp('/crm');
    await screen.findByRole('region', { name: 'Stage Lead' });
    await moveVia('Cooler placement', 'Qualified');
    expect(await screen.findByTestId('forbidden-notice')).toHaveTextContent(
      'You can only move your own deals',
    );
    expect(within(column('Lead')).getByRole('link', { name: 'Cooler placement' })).toBeInTheDocument();
  });
});
