import type { DragEndEvent } from '@dnd-kit/core';
import type { Board, Deal } from '../../api/crm';

/** Where a deal sits on the board. */
export interface DealPlace {
  deal: Deal;
  stageId: string;
  index: number;
}

export function findDeal(board: Board, dealId: string): DealPlace | undefined {
  for (const column of board.columns) {
    const index = column.deals.findIndex((d) => d.id === dealId);
    const deal = column.deals[index];
    if (deal) return { deal, stageId: column.stage.id, index };
  }
  return undefined;
}

/**
 * The board with a deal moved to `toIndex` (0 = top) of stage `toStageId`, as the server
 * will have it once the move is saved: the optimistic state shown while the PATCH runs.
 * Counts follow; per-currency totals wait for the server's answer (the board is refetched).
 */
export function moveDeal(board: Board, dealId: string, toStageId: string, toIndex: number): Board {
  const from = findDeal(board, dealId);
  if (!from || !board.columns.some((c) => c.stage.id === toStageId)) return board;
  const moved: Deal = { ...from.deal, stage_id: toStageId, position: toIndex };
  const target = board.columns.find((c) => c.stage.id === toStageId);
  if (target) moved.probability = target.stage.probability;
  return {
    ...board,
    columns: board.columns.map((column) => {
      const isSource = column.stage.id === from.stageId;
      const isTarget = column.stage.id === toStageId;
      if (!isSource && !isTarget) return column;
      const deals = column.deals.filter((d) => d.id !== dealId);
      if (isTarget) deals.splice(Math.max(0, Math.min(toIndex, deals.length)), 0, moved);
      const count = column.count + (isTarget ? 1 : 0) - (isSource ? 1 : 0);
      return { ...column, deals: deals.map((d, i) => ({ ...d, position: i })), count };
    }),
  };
}

/** The board with one deal replaced by the server's copy (after a successful move). */
export function replaceDeal(board: Board, deal: Deal): Board {
  return {
    ...board,
    columns: board.columns.map((column) => ({
      ...column,
      deals: column.deals.map((d) => (d.id === deal.id ? deal : d)),
    })),
  };
}

/** A field of a deal that someone else changed: what we had, and what the server has now. */
export interface Change {
  field: string;
  mine: string;
  theirs: string;
}

function isDeal(value: unknown): value is Deal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Deal>).id === 'string' &&
    typeof (value as Partial<Deal>).stage_id === 'string' &&
    typeof (value as Partial<Deal>).version === 'number'
  );
}

/** The `current` record of a 412 problem, when it is a deal. */
export function currentDeal(current: unknown): Deal | undefined {
  return isDeal(current) ? current : undefined;
}

/**
 * What changed between the deal as we read it and the server's current copy, for the
 * conflict notice. `stageName` turns stage ids into names.
 */
export function describeChanges(mine: Deal, theirs: Deal, stageName: (id: string) => string): Change[] {
  const changes: Change[] = [];
  if (mine.stage_id !== theirs.stage_id) {
    changes.push({ field: 'Stage', mine: stageName(mine.stage_id), theirs: stageName(theirs.stage_id) });
  }
  if (mine.title !== theirs.title) changes.push({ field: 'Title', mine: mine.title, theirs: theirs.title });
  if (mine.amount !== theirs.amount || mine.currency !== theirs.currency) {
    changes.push({
      field: 'Amount',
      mine: `${mine.amount} ${mine.currency}`,
      theirs: `${theirs.amount} ${theirs.currency}`,
    });
  }
  if ((mine.owner_id ?? '') !== (theirs.owner_id ?? '')) {
    changes.push({ field: 'Owner', mine: mine.owner_id ?? '–', theirs: theirs.owner_id ?? '–' });
  }
  if (mine.status !== theirs.status)
    changes.push({ field: 'Status', mine: mine.status, theirs: theirs.status });
  if (changes.length === 0 && mine.position !== theirs.position) {
    changes.push({ field: 'Position', mine: String(mine.position + 1), theirs: String(theirs.position + 1) });
  }
  return changes;
}

/** A move the user asked for: a deal to `index` (0 = top) of a stage. */
export interface MoveRequest {
  deal: Deal;
  toStageId: string;
  index: number;
}

/** What the board tells the user after a refused move. */
export type MoveNotice =
  | { kind: 'conflict'; title: string; changes: Change[] }
  | { kind: 'forbidden'; title: string }
  | { kind: 'failed'; title: string; detail: string };

/** Where a drop lands: the stage and the index (0 = top) in it, or null when nothing moves. */
export function dropTarget(board: Board, event: Pick<DragEndEvent, 'active' | 'over'>): MoveRequest | null {
  const { active, over } = event;
  if (!over) return null;
  const from = findDeal(board, String(active.id));
  if (!from) return null;
  const overData = over.data.current as { type?: string; stageId?: string } | undefined;
  const toStageId = overData?.stageId;
  const column = board.columns.find((c) => c.stage.id === toStageId);
  if (!toStageId || !column) return null;
  const others = column.deals.filter((d) => d.id !== from.deal.id);
  let index = others.length;
  if (overData.type === 'deal') {
    const overIndex = column.deals.findIndex((d) => d.id === over.id);
    if (toStageId === from.stageId) {
      index = overIndex;
    } else {
      const activeTop = active.rect.current.translated?.top ?? 0;
      const below = activeTop > over.rect.top + over.rect.height / 2;
      index = overIndex + (below ? 1 : 0);
    }
  }
  if (toStageId === from.stageId && index === from.index) return null;
  return { deal: from.deal, toStageId, index: Math.max(0, Math.min(index, others.length)) };
}
