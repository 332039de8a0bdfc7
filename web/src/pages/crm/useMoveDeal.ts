import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import { type Board, crmKeys, type Deal } from '../../api/crm';
import { currentDeal, describeChanges, moveDeal, replaceDeal } from './boardState';
import type { MoveNotice, MoveRequest } from './boardState';

/**
 * Moving a card: the board shows the move at once (optimistic), then `PATCH` with the
 * card's `version`. A refusal puts the card back where it was; a 412 (someone changed the
 * deal since we read it) never overwrites: it reports what changed and reloads the board.
 */
export function useMoveDeal(pipelineId: string, stageName: (id: string) => string) {
  const api = useApi();
  const queryClient = useQueryClient();
  const key = crmKeys.board(pipelineId);
  const [notice, setNotice] = useState<MoveNotice | null>(null);
  const mutation = useMutation<Deal, ApiError, MoveRequest, { before: Board | undefined }>({
    mutationFn: async ({ deal, toStageId, index }) =>
      (
        await unwrap(
          api.PATCH('/api/v1/deals/{id}', {
            params: { path: { id: deal.id } },
            body: { stage_id: toStageId, position: index, version: deal.version },
          }),
        )
      ).data,
    onMutate: async ({ deal, toStageId, index }) => {
      setNotice(null);
      await queryClient.cancelQueries({ queryKey: key });
      const before = queryClient.getQueryData<Board>(key);
      if (before) queryClient.setQueryData<Board>(key, moveDeal(before, deal.id, toStageId, index));
      return { before };
    },
    onSuccess: (saved) => {
      queryClient.setQueryData<Board>(key, (board) => (board ? replaceDeal(board, saved) : board));
      queryClient.setQueryData(crmKeys.record('deals', saved.id), saved);
    },
    onError: (error, { deal }, context) => {
      if (context?.before) queryClient.setQueryData<Board>(key, context.before);
      if (error.status === 412) {
        const current = currentDeal(error.problem.current);
        setNotice({
          kind: 'conflict',
          title: deal.title,
          changes: current ? describeChanges(deal, current, stageName) : [],
        });
      } else if (error.status === 403) {
        setNotice({ kind: 'forbidden', title: deal.title });
      } else {
        setNotice({ kind: 'failed', title: deal.title, detail: error.detail ?? error.title });
      }
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: key }),
  });
  return {
    move: (request: MoveRequest) => {
      mutation.mutate(request);
    },
    notice,
    dismiss: () => {
      setNotice(null);
    },
  };
}
