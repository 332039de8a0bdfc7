import {
  Alert,
  Anchor,
  Button,
  Checkbox,
  Group,
  Modal,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { IconAlertTriangle, IconCircleCheck } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, useState } from 'react';
import { Link } from 'react-router';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import {
  type ConversionResult,
  crmKeys,
  CURRENCIES,
  type Lead,
  personName,
  recordPath,
  useDefaultPipeline,
} from '../../api/crm';
import { CompanyPicker } from './shared';

type CompanyChoice = 'new' | 'existing';

/**
 * Converts a lead into a contact, a company (an existing one, or a new one by name) and
 * optionally a deal, in one request; then links to what was created.
 */
export function ConvertLeadModal({
  opened,
  onClose,
  lead,
}: {
  opened: boolean;
  onClose: () => void;
  lead: Lead;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { pipeline } = useDefaultPipeline();
  const [choice, setChoice] = useState<CompanyChoice>('new');
  const [companyName, setCompanyName] = useState(lead.company_name ?? '');
  const [companyId, setCompanyId] = useState<string | null>(null);
  const [withDeal, setWithDeal] = useState(true);
  const [title, setTitle] = useState(`${lead.company_name ?? personName(lead)} deal`);
  const [amount, setAmount] = useState('');
  const [currency, setCurrency] = useState<string | null>('EUR');
  const [stageId, setStageId] = useState<string | null>(null);

  const convert = useMutation<ConversionResult, ApiError>({
    mutationFn: async () =>
      (
        await unwrap(
          api.POST('/api/v1/leads/{id}/convert', {
            params: { path: { id: lead.id } },
            body: {
              version: lead.version,
              ...(choice === 'existing'
                ? { company_id: companyId }
                : { company_name: companyName.trim() || null }),
              deal: withDeal
                ? { title: title.trim(), amount: amount.trim(), currency: currency ?? '', stage_id: stageId }
                : null,
            },
          }),
        )
      ).data,
    onSuccess: async (result) => {
      queryClient.setQueryData(crmKeys.record('leads', lead.id), result.lead);
      await queryClient.invalidateQueries({ queryKey: crmKeys.all });
    },
  });

  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    convert.mutate();
  };
  const error = convert.error;
  const fieldError = (...names: string[]) => names.map((n) => error?.fieldError(n)).find(Boolean);
  const known = [
    'company_id',
    'company_name',
    'deal.title',
    'deal.amount',
    'deal.currency',
    'deal.stage_id',
    'title',
    'amount',
    'currency',
  ];
  const otherError = error && !known.some((f) => error.fieldError(f));
  const result = convert.data;

  return (
    <Modal opened={opened} onClose={onClose} title={`Convert ${personName(lead)}`} centered size="lg">
      {result ? (
        <Stack gap="sm" data-testid="conversion-result">
          <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} title="Lead converted">
            <Text size="sm">
              The lead is now a contact{result.company ? ', at a company' : ''}
              {result.deal ? ', with a deal' : ''}.
            </Text>
          </Alert>
          <Stack gap={4}>
            <Anchor component={Link} to={recordPath('contact', result.contact.id)} onClick={onClose}>
              Contact: {personName(result.contact)}
            </Anchor>
            {result.company ? (
              <Anchor component={Link} to={recordPath('company', result.company.id)} onClick={onClose}>
                Company: {result.company.name}
              </Anchor>
            ) : null}
            {result.deal ? (
              <Anchor component={Link} to={recordPath('deal', result.deal.id)} onClick={onClose}>
                Deal: {result.deal.title}
              </Anchor>
            ) : null}
          </Stack>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Close
            </Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={onSubmit} aria-label="Convert lead" noValidate>
          <Stack gap="sm">
            <Text size="sm" fw={600}>
              Company
            </Text>
            <SegmentedControl
              value={choice}
              onChange={(v) => {
                setChoice(v === 'existing' ? 'existing' : 'new');
              }}
              data={[
                { value: 'new', label: 'New company' },
                { value: 'existing', label: 'Existing company' },
              ]}
            />
            {choice === 'new' ? (
              <TextInput
                label="New company name"
                value={companyName}
                onChange={(e) => {
                  setCompanyName(e.currentTarget.value);
                }}
                error={fieldError('company_name')}
              />
            ) : (
              <CompanyPicker
                label="Existing company"
                value={companyId}
                onChange={setCompanyId}
                error={fieldError('company_id')}
                required
              />
            )}
            <Checkbox
              mt="sm"
              label="Also open a deal"
              checked={withDeal}
              onChange={(e) => {
                setWithDeal(e.currentTarget.checked);
              }}
            />
            {withDeal ? (
              <Stack gap="sm" pl="md">
                <TextInput
                  label="Deal title"
                  required
                  value={title}
                  onChange={(e) => {
                    setTitle(e.currentTarget.value);
                  }}
                  error={fieldError('deal.title', 'title')}
                />
                <Group grow align="flex-start">
                  <TextInput
                    label="Amount"
                    required
                    placeholder="12500.00"
                    value={amount}
                    onChange={(e) => {
                      setAmount(e.currentTarget.value);
                    }}
                    error={fieldError('deal.amount', 'amount')}
                  />
                  <Select
                    label="Currency"
                    required
                    data={CURRENCIES}
                    value={currency}
                    onChange={setCurrency}
                    error={fieldError('deal.currency', 'currency')}
                    comboboxProps={{ withinPortal: true }}
                  />
                </Group>
                <Select
                  label="Stage"
                  placeholder="First stage"
                  clearable
                  data={(pipeline?.stages ?? [])
                    .filter((s) => s.kind === 'open')
                    .map((s) => ({ value: s.id, label: s.name }))}
                  value={stageId}
                  onChange={setStageId}
                  error={fieldError('deal.stage_id', 'stage_id')}
                  comboboxProps={{ withinPortal: true }}
                />
              </Stack>
            ) : null}
            {otherError ? (
              <Alert
                color="red"
                variant="light"
                icon={<IconAlertTriangle size={18} />}
                role="alert"
                title={error.title}
              >
                {error.status === 412
                  ? 'Someone changed this lead meanwhile; close the dialog and try again.'
                  : error.status === 403
                    ? 'You can only convert leads you own.'
                    : (error.detail ?? error.title)}
              </Alert>
            ) : null}
            <Group justify="flex-end" mt="sm">
              <Button variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" loading={convert.isPending}>
                Convert
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
