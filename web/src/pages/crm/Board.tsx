import {
  closestCorners,
  DndContext,
  type DragEndEvent,
  DragOverlay,
  type DragStartEvent,
  KeyboardSensor,
  PointerSensor,
  useDroppable,
  useSensor,
  useSensors,
} from '@dnd-kit/core';
import {
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Box,
  Button,
  Card,
  Group,
  List,
  Menu,
  Paper,
  ScrollArea,
  Skeleton,
  Stack,
  Text,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconAlertTriangle, IconDots, IconLock, IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import {
  type BoardColumn,
  CURRENCIES,
  type Deal,
  formatMoney,
  type Pipeline,
  recordPath,
  useBoard,
  useDefaultPipeline,
} from '../../api/crm';
import { ErrorAlert } from '../../components/ErrorAlert';
import { dropTarget, findDeal, type MoveNotice, type MoveRequest } from './boardState';
import { useCanSome } from './permissions';
import { useMoveDeal } from './useMoveDeal';
import { CompanyName, CreateRecordModal } from './shared';

function MoveNoticeAlert({ notice, onClose }: { notice: MoveNotice; onClose: () => void }) {
  if (notice.kind === 'conflict') {
    return (
      <Alert
        color="orange"
        variant="light"
        icon={<IconAlertTriangle size={18} />}
        title={`“${notice.title}” was changed by someone else`}
        withCloseButton
        onClose={onClose}
        role="alert"
        data-testid="conflict-notice"
      >
        <Text size="sm">Your move was not saved. The board now shows the deal as it is on the server.</Text>
        {notice.changes.length > 0 ? (
          <List size="sm" mt={6}>
            {notice.changes.map((c) => (
              <List.Item key={c.field}>
                {c.field}: now <b>{c.theirs}</b> (you saw {c.mine})
              </List.Item>
            ))}
          </List>
        ) : null}
      </Alert>
    );
  }
  if (notice.kind === 'forbidden') {
    return (
      <Alert
        color="red"
        variant="light"
        icon={<IconLock size={18} />}
        title="Not moved"
        withCloseButton
        onClose={onClose}
        role="alert"
        data-testid="forbidden-notice"
      >
        You can only move your own deals. “{notice.title}” belongs to someone else.
      </Alert>
    );
  }
  return (
    <Alert
      color="red"
      variant="light"
      icon={<IconAlertTriangle size={18} />}
      title={`“${notice.title}” was not moved`}
      withCloseButton
      onClose={onClose}
      role="alert"
    >
      {notice.detail}
    </Alert>
  );
}

function DealCardBody({ deal }: { deal: Deal }) {
  return (
    <Stack gap={2}>
      <Anchor component={Link} to={recordPath('deal', deal.id)} fw={600} size="sm" lineClamp={2}>
        {deal.title}
      </Anchor>
      <Text size="sm" ff="monospace">
        {formatMoney(deal.amount, deal.currency)}
      </Text>
      <Text size="xs" c="dimmed" truncate>
        <CompanyName id={deal.company_id} />
      </Text>
    </Stack>
  );
}

function DealCard({
  deal,
  stageId,
  index,
  columns,
  canMove,
  onMove,
}: {
  deal: Deal;
  stageId: string;
  index: number;
  columns: BoardColumn[];
  canMove: boolean;
  onMove: (request: MoveRequest) => void;
}) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({
    id: deal.id,
    data: { type: 'deal', stageId },
    disabled: !canMove,
  });
  return (
    <Card
      ref={setNodeRef}
      withBorder
      padding="sm"
      radius="md"
      data-testid="deal-card"
      data-deal-id={deal.id}
      aria-label={`Deal ${deal.title}`}
      style={{
        transform: CSS.Translate.toString(transform),
        transition,
        opacity: isDragging ? 0.4 : 1,
        cursor: canMove ? 'grab' : undefined,
        touchAction: 'none',
      }}
      {...attributes}
      {...listeners}
    >
      <Group justify="space-between" align="flex-start" wrap="nowrap" gap={4}>
        <DealCardBody deal={deal} />
        {canMove ? (
          <Menu position="bottom-end" withinPortal>
            <Menu.Target>
              <ActionIcon
                variant="subtle"
                color="gray"
                size="sm"
                aria-label={`Move ${deal.title}`}
                onPointerDown={(e) => {
                  e.stopPropagation();
                }}
                onKeyDown={(e) => {
                  e.stopPropagation();
                }}
              >
                <IconDots size={14} />
              </ActionIcon>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Label>Move to</Menu.Label>
              {columns
                .filter((c) => c.stage.id !== stageId)
                .map((c) => (
                  <Menu.Item
                    key={c.stage.id}
                    onClick={() => {
                      onMove({ deal, toStageId: c.stage.id, index: 0 });
                    }}
                  >
                    {c.stage.name}
                  </Menu.Item>
                ))}
              {index > 0 ? (
                <Menu.Item
                  onClick={() => {
                    onMove({ deal, toStageId: stageId, index: 0 });
                  }}
                >
                  Top of this stage
                </Menu.Item>
              ) : null}
            </Menu.Dropdown>
          </Menu>
        ) : null}
      </Group>
    </Card>
  );
}

function Column({
  column,
  columns,
  canMove,
  onMove,
}: {
  column: BoardColumn;
  columns: BoardColumn[];
  canMove: boolean;
  onMove: (request: MoveRequest) => void;
}) {
  const { setNodeRef, isOver } = useDroppable({
    id: `stage:${column.stage.id}`,
    data: { type: 'stage', stageId: column.stage.id },
  });
  const { stage } = column;
  return (
    <Paper
      ref={setNodeRef}
      withBorder
      radius="md"
      p="sm"
      w={272}
      miw={272}
      role="region"
      aria-label={`Stage ${stage.name}`}
      data-testid="board-column"
      data-stage-id={stage.id}
      style={{
        background: isOver ? 'var(--mantine-color-meridian-light)' : 'var(--mantine-color-body)',
        alignSelf: 'stretch',
      }}
    >
      <Stack gap={4} mb="sm">
        <Group justify="space-between" wrap="nowrap">
          <Text fw={600} size="sm" truncate>
            {stage.name}
          </Text>
          <Group gap={4} wrap="nowrap">
            <Badge
              size="sm"
              variant="light"
              color={stage.kind === 'won' ? 'teal' : stage.kind === 'lost' ? 'gray' : 'meridian'}
            >
              {stage.probability}%
            </Badge>
            <Badge
              size="sm"
              variant="outline"
              color="gray"
              data-testid="column-count"
              aria-label={`${String(column.count)} deals`}
            >
              {column.count}
            </Badge>
          </Group>
        </Group>
        {column.totals.length === 0 ? (
          <Text size="xs" c="dimmed">
            No deals
          </Text>
        ) : (
          column.totals.map((t) => (
            <Text key={t.currency} size="xs" c="dimmed" data-testid="column-total">
              {formatMoney(t.amount, t.currency)} · weighted {formatMoney(t.weighted, t.currency)}
            </Text>
          ))
        )}
      </Stack>
      <SortableContext items={column.deals.map((d) => d.id)} strategy={verticalListSortingStrategy}>
        <Stack gap="xs" mih={80}>
          {column.deals.map((deal, index) => (
            <DealCard
              key={deal.id}
              deal={deal}
              stageId={stage.id}
              index={index}
              columns={columns}
              canMove={canMove}
              onMove={onMove}
            />
          ))}
          {column.count > column.deals.length ? (
            <Text size="xs" c="dimmed" ta="center">
              {column.count - column.deals.length} more in the Deals list
            </Text>
          ) : null}
        </Stack>
      </SortableContext>
    </Paper>
  );
}

function PipelineBoard({ pipeline }: { pipeline: Pipeline }) {
  const board = useBoard(pipeline.id);
  const canSome = useCanSome();
  const canMove = canSome('deals:update');
  const stageName = (id: string) => pipeline.stages.find((s) => s.id === id)?.name ?? id;
  const { move, notice, dismiss } = useMoveDeal(pipeline.id, stageName);
  const [dragging, setDragging] = useState<Deal | null>(null);
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 6 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );

  if (board.isPending) return <Skeleton h={420} radius="md" />;
  if (board.isError)
    return <ErrorAlert error={board.error} what="the pipeline" onRetry={() => void board.refetch()} />;
  const data = board.data;
  const title = (id: unknown) => findDeal(data, String(id))?.deal.title ?? 'deal';

  const onDragStart = (e: DragStartEvent) => {
    setDragging(findDeal(data, String(e.active.id))?.deal ?? null);
  };
  const onDragEnd = (e: DragEndEvent) => {
    setDragging(null);
    const request = dropTarget(data, e);
    if (request) move(request);
  };

  return (
    <Stack gap="sm">
      {notice ? <MoveNoticeAlert notice={notice} onClose={dismiss} /> : null}
      <DndContext
        sensors={sensors}
        collisionDetection={closestCorners}
        onDragStart={onDragStart}
        onDragEnd={onDragEnd}
        onDragCancel={() => {
          setDragging(null);
        }}
        accessibility={{
          announcements: {
            onDragStart: ({ active }) => `Picked up ${title(active.id)}.`,
            onDragOver: ({ active, over }) =>
              over
                ? `${title(active.id)} is over ${String(over.id)}.`
                : `${title(active.id)} is no longer over a stage.`,
            onDragEnd: ({ active, over }) =>
              over
                ? `${title(active.id)} was dropped.`
                : `${title(active.id)} was dropped outside the board.`,
            onDragCancel: ({ active }) => `Moving ${title(active.id)} was cancelled.`,
          },
        }}
      >
        <ScrollArea type="auto" offsetScrollbars>
          <Group align="stretch" wrap="nowrap" gap="sm" pb="sm" data-testid="board">
            {data.columns.map((column) => (
              <Column
                key={column.stage.id}
                column={column}
                columns={data.columns}
                canMove={canMove}
                onMove={move}
              />
            ))}
          </Group>
        </ScrollArea>
        <DragOverlay dropAnimation={null}>
          {dragging ? (
            <Card withBorder padding="sm" radius="md" shadow="md" w={248}>
              <DealCardBody deal={dragging} />
            </Card>
          ) : null}
        </DragOverlay>
      </DndContext>
    </Stack>
  );
}

/** The default pipeline as a kanban board, with "New deal". */
export function PipelinePage() {
  const pipelines = useDefaultPipeline();
  const canSome = useCanSome();
  const [newOpen, newDeal] = useDisclosure(false);
  const { pipeline } = pipelines;
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Text c="dimmed" size="sm">
          {pipeline ? `${pipeline.name} pipeline: drag a card to another stage, or use its menu.` : ' '}
        </Text>
        {canSome('deals:create') && pipeline ? (
          <Button leftSection={<IconPlus size={16} />} onClick={newDeal.open}>
            New deal
          </Button>
        ) : null}
      </Group>
      {pipelines.isPending ? <Skeleton h={420} radius="md" /> : null}
      {pipelines.isError ? <ErrorAlert error={pipelines.error} what="the pipelines" /> : null}
      {pipelines.isSuccess && !pipeline ? <Text c="dimmed">No pipeline yet.</Text> : null}
      {pipeline ? (
        <Box>
          <PipelineBoard pipeline={pipeline} />
          <NewDealModal opened={newOpen} onClose={newDeal.close} pipeline={pipeline} />
        </Box>
      ) : null}
    </Stack>
  );
}

export function NewDealModal({
  opened,
  onClose,
  pipeline,
}: {
  opened: boolean;
  onClose: () => void;
  pipeline: Pipeline | undefined;
}) {
  return (
    <CreateRecordModal
      opened={opened}
      onClose={onClose}
      collection="deals"
      title="New deal"
      recordPath={(id) => recordPath('deal', id)}
      fields={[
        { name: 'title', label: 'Title', required: true },
        { name: 'amount', label: 'Amount', required: true, placeholder: '12500.00' },
        {
          name: 'currency',
          label: 'Currency',
          required: true,
          kind: 'select',
          options: CURRENCIES,
          initial: 'EUR',
        },
        {
          name: 'stage_id',
          label: 'Stage',
          kind: 'select',
          options: (pipeline?.stages ?? []).map((s) => ({ value: s.id, label: s.name })),
        },
        { name: 'company_id', label: 'Company', kind: 'company' },
        { name: 'expected_close_date', label: 'Expected close date (YYYY-MM-DD)', placeholder: '2026-12-31' },
      ]}
    />
  );
}
