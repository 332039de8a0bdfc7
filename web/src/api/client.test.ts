import { describe, expect, it } from 'vitest';
import { mockServer, json, problem, ORIGIN } from '../test/utils';
import { ApiError, createApiClient, isProblem, toApiError, unwrap } from './client';

const api = () => createApiClient({ baseUrl: ORIGIN });

describe('API client', () => {
  it('returns typed data on success', async () => {
    mockServer({ 'GET /health': () => json({ status: 'ok', version: '0.1.0' }) });
    const health = await unwrap(api().GET('/health'));
    expect(health).toEqual({ status: 'ok', version: '0.1.0' });
  });

  it('turns a problem+json response into an ApiError with title, detail and request id', async () => {
    mockServer({
      'GET /ready': () =>
        problem({
          type: 'urn:meridian:problem:service_unavailable',
          code: 'service_unavailable',
          title: 'Database unavailable',
          status: 503,
          detail: 'the database did not answer within 2 s',
          request_id: '01J0000000000000000000000',
        }),
    });
    const error = await unwrap(api().GET('/ready')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const e = error as ApiError;
    expect(e.status).toBe(503);
    expect(e.title).toBe('Database unavailable');
    expect(e.detail).toBe('the database did not answer within 2 s');
    expect(e.type).toBe('urn:meridian:problem:service_unavailable');
    expect(e.code).toBe('service_unavailable');
    expect(e.requestId).toBe('01J0000000000000000000000');
    expect(e.message).toBe('Database unavailable: the database did not answer within 2 s');
    expect(e.fieldErrors).toEqual([]);
  });

  it('exposes validation errors per field', async () => {
    mockServer({
      'GET /health': () =>
        problem({
          type: 'urn:meridian:problem:validation_failed',
          code: 'validation_failed',
          title: 'Validation failed',
          status: 422,
          errors: [
            { field: 'email', message: 'must be an email address' },
            { field: 'name', message: 'must not be empty' },
          ],
        }),
    });
    const e = (await unwrap(api().GET('/health')).catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(422);
    expect(e.code).toBe('validation_failed');
    expect(e.fieldErrors).toHaveLength(2);
    expect(e.fieldError('email')).toBe('must be an email address');
    expect(e.fieldError('phone')).toBeUndefined();
  });

  it('makes a problem out of a non-problem error body', async () => {
    mockServer({
      'GET /health': () =>
        new Response('upstream connect error', {
          status: 502,
          statusText: 'Bad Gateway',
          headers: { 'content-type': 'text/plain', 'x-request-id': 'req-1' },
        }),
    });
    const e = (await unwrap(api().GET('/health')).catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(502);
    expect(e.title).toBe('Bad Gateway');
    expect(e.code).toBe('unexpected_response');
    expect(e.detail).toBe('upstream connect error');
    expect(e.requestId).toBe('req-1');
  });

  it('reports an unreachable server as status 0', async () => {
    mockServer({
      'GET /health': () => {
        throw new TypeError('fetch failed');
      },
    });
    const e = (await unwrap(api().GET('/health')).catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(0);
    expect(e.title).toBe('Server unreachable');
    expect(e.code).toBe('network_error');
    expect(e.detail).toBe('fetch failed');
  });

  it('fills in a missing problem type and code, and reads null members as absent', () => {
    const e = toApiError(
      { title: 'Conflict', status: 409, detail: null, request_id: null },
      new Response(null, { status: 409 }),
    );
    expect(e.type).toBe('about:blank');
    expect(e.code).toBe('unexpected_response');
    expect(e.title).toBe('Conflict');
    expect(e.detail).toBeUndefined();
    expect(e.requestId).toBeUndefined();
    expect(e.message).toBe('Conflict');
  });

  it('recognises problem details', () => {
    expect(isProblem({ type: 'about:blank', title: 'x', status: 400 })).toBe(true);
    expect(isProblem({ title: 'x', status: 400, errors: [{ field: 'a', message: 'b' }] })).toBe(true);
    expect(isProblem({ title: 'x', status: '400' })).toBe(false);
    expect(isProblem({ title: 'x', status: 400, errors: [{ field: 1 }] })).toBe(false);
    expect(isProblem('Bad Gateway')).toBe(false);
    expect(isProblem(null)).toBe(false);
    expect(isProblem([])).toBe(false);
  });
});
