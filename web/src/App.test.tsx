import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { MODULES, SECTIONS } from './modules';
import { BUILT } from './routes';
import { ADMIN, json, mockServer, renderApp, signedIn } from './test/utils';

beforeEach(() => {
  mockServer({
    ...signedIn(ADMIN),
    'GET /health': () => json({ status: 'ok', version: '0.1.0' }),
    'GET /ready': () => json({ status: 'ready', database: 'sqlite' }),
  });
});

describe('App shell', () => {
  it('renders the header, the navigation for every module and the dashboard', async () => {
    renderApp('/');
    expect(await screen.findByRole('heading', { level: 1, name: 'Dashboard' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Meridian home' })).toHaveTextContent('Meridian');
    expect(screen.getByRole('button', { name: 'User menu' })).toBeInTheDocument();

    const nav = screen.getByRole('navigation', { name: 'Main navigation' });
    for (const label of ['Dashboard', ...SECTIONS.map((s) => s.label), 'Status']) {
      expect(within(nav).getByRole('link', { name: label })).toBeInTheDocument();
    }
    expect(screen.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: /view status/i })).toHaveAttribute('href', '/status');
    expect(document.title).toBe('Dashboard · Meridian');
    // server-rendered pages are plain links, not client routes
    expect(screen.getByRole('link', { name: 'API reference' })).toHaveAttribute('href', '/api/docs/');
    expect(screen.getByRole('link', { name: 'OpenAPI document' })).toHaveAttribute(
      'href',
      '/api/v1/openapi.json',
    );
    // the dashboard's status card fills in from the API
    expect(await screen.findByText('Meridian v0.1.0', { exact: false })).toBeInTheDocument();
  });

  it.each(MODULES.filter((m) => !BUILT.has(m.path)).map((s) => [s.path, s.label, s.description] as const))(
    '%s shows the coming-soon page of %s',
    async (path, label, description) => {
      renderApp(path);
      expect(await screen.findByRole('heading', { level: 1, name: label })).toBeInTheDocument();
      const empty = screen.getByTestId('coming-soon');
      expect(empty).toHaveTextContent('Coming soon');
      expect(empty).toHaveTextContent(description);
    },
  );

  it('keeps module sub-paths inside the module', async () => {
    renderApp('/helpdesk/tickets/42');
    expect(await screen.findByRole('heading', { level: 1, name: 'Helpdesk' })).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Main navigation' });
    expect(within(nav).getByRole('link', { name: 'Helpdesk' })).toHaveAttribute('data-active', 'true');
  });

  it('navigates to the status page from the navigation', async () => {
    const { router } = renderApp('/');
    await screen.findByRole('heading', { level: 1, name: 'Dashboard' });
    const nav = screen.getByRole('navigation', { name: 'Main navigation' });
    await userEvent.click(within(nav).getByRole('link', { name: 'Status' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Status' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/status');
    expect(await screen.findByTestId('server-version')).toHaveTextContent('v0.1.0');
  });

  it('shows a 404 page for unknown paths', async () => {
    renderApp('/no/such/page');
    const notFound = await screen.findByTestId('not-found');
    expect(notFound).toHaveTextContent('404');
    expect(notFound).toHaveTextContent('/no/such/page');
    expect(screen.getByRole('link', { name: /go to dashboard/i })).toHaveAttribute('href', '/');
    expect(document.title).toBe('Page not found · Meridian');
  });
});
