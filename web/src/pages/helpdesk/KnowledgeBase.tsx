import {
  Alert,
  Badge,
  Button,
  Card,
  Grid,
  Group,
  NavLink,
  Select,
  SimpleGrid,
  Stack,
  TagsInput,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconPlus, IconSearch } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import {
  cleanTags,
  helpdeskKeys,
  ifMatch,
  type KbArticle,
  type KbCategory,
  type KbStatus,
  useKbArticle,
  useKbArticles,
  useKbCategories,
} from '../../api/helpdesk';
import { useCan } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { NoAccess } from '../../components/NoAccess';
import { Markdown } from './Markdown';

/** Knowledge base: categories, searchable articles, a Markdown editor with preview, publish. */
export function KnowledgeBasePage() {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const [search, setSearch] = useSearchParams();
  const categoryId = search.get('category');
  const articleId = search.get('article');
  const [q, setQ] = useState('');
  const [term] = useDebouncedValue(q, 250);
  const manage = can('kb:manage');
  const categories = useKbCategories();
  const articles = useKbArticles(term, categoryId);
  const listed = articles.data?.find((a) => a.id === articleId);
  // a link from elsewhere (suggested articles) may name an article the list does not show
  const single = useKbArticle(articleId && articles.data && !listed ? articleId : null);
  const setParam = (name: string, value: string | null) => {
    setSearch((prev) => {
      const next = new URLSearchParams(prev);
      if (value) next.set(name, value);
      else next.delete(name);
      return next;
    });
  };
  // the server appends a category without `position` after the last one
  const newCategory = useMutation<KbCategory, ApiError, string>({
    mutationFn: async (name) => (await unwrap(api.POST('/api/v1/kb/categories', { body: { name } }))).data,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: helpdeskKeys.kbCategories }),
  });
  const newArticle = useMutation<KbArticle, ApiError>({
    mutationFn: async () =>
      (
        await unwrap(
          api.POST('/api/v1/kb/articles', {
            body: { title: 'Untitled article', body_markdown: '', category_id: categoryId, status: 'draft' },
          }),
        )
      ).data,
    onSuccess: async (article) => {
      await queryClient.invalidateQueries({ queryKey: ['helpdesk', 'kb', 'articles'] });
      setParam('article', article.id);
    },
  });
  const [categoryName, setCategoryName] = useState('');

  // without `kb:read` the server answers 403: say so instead of an error
  if (!can('kb:read') || categories.error?.status === 403 || articles.error?.status === 403) {
    return <NoAccess what="the knowledge base" />;
  }
  if (categories.error) return <ErrorAlert error={categories.error} what="the knowledge base" />;
  const list = articles.data ?? [];
  const selected = listed ?? single.data ?? null;
  const categoryName_ = (id: string | null) =>
    categories.data?.find((c) => c.id === id)?.name ?? 'No category';

  return (
    <Grid gap="lg">
      <Grid.Col span={{ base: 12, md: 3 }}>
        <Card withBorder p="xs">
          <Text size="xs" fw={600} c="dimmed" px="sm" py={4}>
            Categories
          </Text>
          <NavLink
            label="All articles"
            active={!categoryId}
            onClick={() => {
              setParam('category', null);
            }}
          />
          {categories.data?.map((c) => (
            <NavLink
              key={c.id}
              label={c.name}
              description={c.description || undefined}
              active={categoryId === c.id}
              onClick={() => {
                setParam('category', c.id);
              }}
            />
          ))}
          {manage ? (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                if (categoryName.trim()) {
                  newCategory.mutate(categoryName.trim(), {
                    onSuccess: () => {
                      setCategoryName('');
                    },
                  });
                }
              }}
            >
              <Group gap={4} mt="xs" px={4} wrap="nowrap">
                <TextInput
                  size="xs"
                  placeholder="New category"
                  aria-label="New category"
                  value={categoryName}
                  onChange={(e) => {
                    setCategoryName(e.currentTarget.value);
                  }}
                  error={newCategory.error?.fieldError('name')}
                />
                <Button size="xs" variant="default" type="submit" loading={newCategory.isPending}>
                  Add
                </Button>
              </Group>
            </form>
          ) : null}
        </Card>
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 9 }}>
        <Stack gap="md">
          <Group justify="space-between">
            <TextInput
              leftSection={<IconSearch size={16} />}
              placeholder="Search articles"
              aria-label="Search articles"
              value={q}
              onChange={(e) => {
                setQ(e.currentTarget.value);
              }}
              w={320}
            />
            {manage ? (
              <Button
                leftSection={<IconPlus size={16} />}
                loading={newArticle.isPending}
                onClick={() => {
                  newArticle.mutate();
                }}
              >
                New article
              </Button>
            ) : null}
          </Group>
          {articles.error ? <ErrorAlert error={articles.error} what="the articles" /> : null}
          {selected ? (
            <ArticleEditor
              key={`${selected.id}-${selected.version}`}
              article={selected}
              categories={categories.data ?? []}
              onClose={() => {
                setParam('article', null);
              }}
            />
          ) : (
            <Stack gap="xs" data-testid="kb-articles">
              {list.length === 0 && !articles.isPending ? (
                <Text c="dimmed">No articles{term ? ` match “${term}”` : ''}.</Text>
              ) : null}
              {list.map((a) => (
                <Card
                  key={a.id}
                  withBorder
                  p="sm"
                  component="button"
                  style={{ textAlign: 'left', cursor: 'pointer' }}
                  onClick={() => {
                    setParam('article', a.id);
                  }}
                >
                  <Group justify="space-between">
                    <Text fw={500}>{a.title}</Text>
                    <Group gap={4}>
                      {typeof a.score === 'number' ? (
                        <Text size="xs" c="dimmed" data-testid="kb-score" title="Relevance to the search">
                          {a.score.toFixed(2)}
                        </Text>
                      ) : null}
                      <Badge variant="light" color={a.status === 'published' ? 'teal' : 'gray'} radius="sm">
                        {a.status}
                      </Badge>
                      <Text size="xs" c="dimmed">
                        {categoryName_(a.category_id ?? null)}
                      </Text>
                    </Group>
                  </Group>
                  <Text size="sm" c="dimmed" lineClamp={2}>
                    {a.body_markdown.replace(/[#*_`>[\]()]/g, '').slice(0, 240)}
                  </Text>
                </Card>
              ))}
            </Stack>
          )}
        </Stack>
      </Grid.Col>
    </Grid>
  );
}

function ArticleEditor({
  article,
  categories,
  onClose,
}: {
  article: KbArticle;
  categories: KbCategory[];
  onClose: () => void;
}) {
  const api = useApi();
  const can = useCan();
  const queryClient = useQueryClient();
  const editable = can('kb:manage');
  const [title, setTitle] = useState(article.title);
  const [body, setBody] = useState(article.body_markdown);
  const [categoryId, setCategoryId] = useState<string | null>(article.category_id ?? null);
  const [tags, setTags] = useState<string[]>(article.tags);
  const save = useMutation<KbArticle, ApiError, { status?: KbStatus }>({
    mutationFn: async ({ status }) => {
      const result = await unwrap(
        api.PATCH('/api/v1/kb/articles/{id}', {
          params: { path: { id: article.id } },
          headers: ifMatch(article.version),
          body: {
            title: title.trim(),
            body_markdown: body,
            category_id: categoryId,
            tags: cleanTags(tags),
            ...(status ? { status } : {}),
          },
        }),
      );
      return result.data;
    },
    onSuccess: async (saved) => {
      notifications.show({
        color: 'teal',
        message: saved.status === 'published' ? `“${saved.title}” is published.` : `“${saved.title}” saved.`,
      });
      // a published (or withdrawn) article changes what tickets are suggested
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ['helpdesk', 'kb'] }),
        queryClient.invalidateQueries({ queryKey: helpdeskKeys.allSuggested }),
      ]);
    },
    onError: async (error) => {
      if (error.status === 412) await queryClient.invalidateQueries({ queryKey: ['helpdesk', 'kb'] });
    },
  });
  const err = save.error;
  return (
    <Card withBorder data-testid="kb-editor">
      <Stack gap="sm">
        <Group justify="space-between">
          <Group gap="xs">
            <Title order={3} fz={16}>
              {editable ? 'Edit article' : article.title}
            </Title>
            <Badge variant="light" color={article.status === 'published' ? 'teal' : 'gray'} radius="sm">
              {article.status}
            </Badge>
            <Text size="xs" c="dimmed">
              version {article.version}
            </Text>
          </Group>
          <Button variant="subtle" size="xs" onClick={onClose}>
            Back to list
          </Button>
        </Group>
        {editable ? (
          <>
            <TextInput
              label="Title"
              value={title}
              onChange={(e) => {
                setTitle(e.currentTarget.value);
              }}
              error={err?.fieldError('title')}
            />
            <Group grow>
              <Select
                label="Category"
                clearable
                data={categories.map((c) => ({ value: c.id, label: c.name }))}
                value={categoryId}
                onChange={setCategoryId}
                error={err?.fieldError('category_id')}
                comboboxProps={{ withinPortal: true }}
              />
              <TagsInput label="Tags" value={tags} onChange={setTags} error={err?.fieldError('tags')} />
            </Group>
            <SimpleGrid cols={{ base: 1, lg: 2 }}>
              <Textarea
                label="Body (Markdown)"
                autosize
                minRows={14}
                value={body}
                onChange={(e) => {
                  setBody(e.currentTarget.value);
                }}
                error={err?.fieldError('body_markdown')}
                styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
              />
              <div>
                <Text size="sm" fw={500} mb={4}>
                  Preview
                </Text>
                <Card withBorder p="sm" data-testid="kb-preview" mih={300}>
                  <Markdown source={body} />
                </Card>
              </div>
            </SimpleGrid>
          </>
        ) : (
          <Markdown source={article.body_markdown} />
        )}
        {err && !['title', 'body_markdown', 'category_id', 'tags'].some((f) => err.fieldError(f)) ? (
          <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
            {err.status === 412
              ? 'Someone else changed this article; the page now shows their version.'
              : (err.detail ?? err.title)}
          </Alert>
        ) : null}
        {editable ? (
          <Group>
            <Button
              variant="default"
              loading={save.isPending && save.variables.status === undefined}
              onClick={() => {
                save.mutate({});
              }}
            >
              Save
            </Button>
            {article.status === 'draft' ? (
              <Button
                loading={save.isPending && save.variables.status === 'published'}
                onClick={() => {
                  save.mutate({ status: 'published' });
                }}
              >
                Publish
              </Button>
            ) : (
              <Button
                variant="subtle"
                color="gray"
                loading={save.isPending && save.variables.status === 'draft'}
                onClick={() => {
                  save.mutate({ status: 'draft' });
                }}
              >
                Unpublish
              </Button>
            )}
          </Group>
        ) : null}
      </Stack>
    </Card>
  );
}
