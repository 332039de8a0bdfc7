import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { json, mockServer, ORIGIN, problem } from '../test/utils';
import { createApiClient } from './client';
import { LATENCY_HISTORY, pollReadiness, probeReadiness, readinessKey, type ReadinessData } from './system';

const api = () => createApiClient({ baseUrl: ORIGIN });

describe('readiness probe', () => {
  it('reports ready with the database name and a latency', async () => {
    mockServer({ 'GET /ready': () => json({ status: 'ready', database: 'sqlite' }) });
    const sample = await probeReadiness(api());
    expect(sample.state).toBe('ready');
    expect(sample.readiness).toEqual({ status: 'ready', database: 'sqlite' });
    expect(sample.latencyMs).toBeGreaterThanOrEqual(0);
    expect(sample.problem).toBeUndefined();
  });

  it('reports not ready with the 503 problem', async () => {
    mockServer({
      'GET /ready': () =>
        problem({
          type: 'urn:meridian:problem:service_unavailable',
          code: 'service_unavailable',
          title: 'Service Unavailable',
          status: 503,
          detail: 'database down',
        }),
    });
    const sample = await probeReadiness(api());
    expect(sample.state).toBe('not_ready');
    expect(sample.problem).toMatchObject({
      title: 'Service Unavailable',
      status: 503,
      detail: 'database down',
    });
  });

  it('reports unreachable when there is no response', async () => {
    mockServer({
      'GET /ready': () => {
        throw new TypeError('connection refused');
      },
    });
    const sample = await probeReadiness(api());
    expect(sample.state).toBe('unreachable');
    expect(sample.problem).toMatchObject({ title: 'Server unreachable', status: 0 });
  });

  it(`keeps the last ${LATENCY_HISTORY} polls, oldest first`, async () => {
    mockServer({ 'GET /ready': () => json({ status: 'ready', database: 'sqlite' }) });
    const client = api();
    const queryClient = new QueryClient();
    for (let i = 0; i < LATENCY_HISTORY + 5; i++) {
      const data = await pollReadiness(client, queryClient, new AbortController().signal);
      queryClient.setQueryData<ReadinessData>(readinessKey, data);
    }
    const data = queryClient.getQueryData<ReadinessData>(readinessKey)!;
    expect(data.history).toHaveLength(LATENCY_HISTORY);
    expect(data.history.at(-1)).toEqual(data.latest);
    const times = data.history.map((s) => s.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});
