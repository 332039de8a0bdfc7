import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { json, mockServer, problem, renderApp } from '../test/utils';

const health = () => json({ status: 'ok', version: '0.1.0' });

function card(title: string): HTMLElement {
  const heading = screen.getByText(title);
  const el = heading.closest<HTMLElement>('.mantine-Card-root');
  if (!el) throw new Error(`no card titled ${title}`);
  return el;
}

describe('Status page', () => {
  it('shows version, readiness and the latency chart when the server is ready', async () => {
    const fetchMock = mockServer({
      'GET /health': health,
      'GET /ready': () => json({ status: 'ready', database: 'sqlite' }),
    });
    renderApp('/status');

    expect(await screen.findByTestId('server-version')).toHaveTextContent('v0.1.0');
    expect(await screen.findByTestId('database')).toHaveTextContent('sqlite');
    expect(within(card('Database')).getByTestId('readiness-badge')).toHaveTextContent('Ready');
    expect(within(card('Server')).getByTestId('readiness-badge')).toHaveTextContent('Live');
    expect(screen.getByTestId('readiness-status')).toHaveTextContent('ready');
    expect(screen.getByTestId('latency')).toHaveTextContent(/ms$/);
    expect(screen.queryByTestId('problem')).not.toBeInTheDocument();

    const chart = screen.getByRole('img', { name: /latency of GET \/ready/ });
    expect(chart.querySelector('svg')).not.toBeNull();
    expect(document.title).toBe('Status · Meridian');

    const paths = fetchMock.mock.calls.map(([input]) => new URL((input as Request).url).pathname);
    expect(paths).toContain('/health');
    expect(paths).toContain('/ready');
  });

  it('shows "Not ready" and the problem when /ready answers 503', async () => {
    mockServer({
      'GET /health': health,
      'GET /ready': () =>
        problem(
          {
            type: 'urn:meridian:problem:service_unavailable',
            code: 'service_unavailable',
            title: 'Service Unavailable',
            status: 503,
            detail: 'database is not reachable: connection refused',
            request_id: 'req-42',
          },
          { 'retry-after': '5' },
        ),
    });
    renderApp('/status');

    const alert = await screen.findByTestId('problem');
    expect(alert).toHaveTextContent('Service Unavailable');
    expect(alert).toHaveTextContent('database is not reachable: connection refused');
    expect(alert).toHaveTextContent('HTTP 503 · service_unavailable · request req-42');
    expect(within(card('Database')).getByTestId('readiness-badge')).toHaveTextContent('Not ready');
    // liveness is independent of the database
    expect(await screen.findByTestId('server-version')).toHaveTextContent('v0.1.0');
    expect(screen.queryByTestId('database')).not.toBeInTheDocument();
  });

  it('shows the server as unreachable when nothing answers', async () => {
    mockServer({
      'GET /health': () => {
        throw new TypeError('Failed to fetch');
      },
      'GET /ready': () => {
        throw new TypeError('Failed to fetch');
      },
    });
    renderApp('/status');

    const problems = await screen.findAllByTestId('problem');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toHaveTextContent('Server unreachable');
    expect(problems[0]).toHaveTextContent('No response');
    expect(within(card('Database')).getByTestId('readiness-badge')).toHaveTextContent('Unreachable');
  });
});
