import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { REFRESH_TOKEN_KEY } from '../auth/session';
import { ADMIN, json, meridianProblem, mockServer, renderApp, tokenPair } from '../test/utils';

const authed = {
  'GET /api/v1/auth/me': () => json({ data: ADMIN }),
  'GET /health': () => json({ status: 'ok', version: '0.1.0' }),
  'GET /ready': () => json({ status: 'ready', database: 'sqlite' }),
  'GET /api/v1/users': () => json({ data: [], meta: { limit: 50, next_cursor: null } }),
  'GET /api/v1/roles': () => json({ data: [] }),
};

async function fillCredentials(email = 'ada@acme.test', password = 'correct horse battery') {
  await userEvent.type(screen.getByRole('textbox', { name: 'Email' }), email);
  await userEvent.type(screen.getByLabelText(/^Password/), password);
  await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('Sign-in page', () => {
  it('sends a signed-out visitor to /login and back to where they were going', async () => {
    mockServer({ ...authed, 'POST /api/v1/auth/login': () => json(tokenPair()) });
    const { router } = renderApp('/settings/users');
    expect(await screen.findByRole('heading', { name: 'Sign in to Meridian' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(document.title).toBe('Sign in · Meridian');

    await fillCredentials();
    expect(await screen.findByRole('heading', { level: 1, name: 'Settings' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/settings/users');
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toMatch(/^refresh-/);
  });

  it('asks for the TOTP code when the account has one, then signs in', async () => {
    const sent: unknown[] = [];
    mockServer({
      ...authed,
      'POST /api/v1/auth/login': async (r) => {
        const body = (await r.json()) as { totp_code?: string | null };
        sent.push(body.totp_code);
        if (!body.totp_code) return meridianProblem(401, 'totp_required');
        if (body.totp_code !== '654321') return meridianProblem(401, 'unauthorized');
        return json(tokenPair());
      },
    });
    const { router } = renderApp('/login');
    await fillCredentials();
    expect(await screen.findByRole('heading', { name: 'Two-step verification' })).toBeInTheDocument();

    const code = screen.getByRole('textbox', { name: 'Authentication code' });
    await userEvent.type(code, '111111');
    await userEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect(await screen.findByTestId('login-error')).toHaveTextContent('not correct');
    // still on the code step, with the field cleared
    expect(screen.getByRole('textbox', { name: 'Authentication code' })).toHaveValue('');

    await userEvent.type(screen.getByRole('textbox', { name: 'Authentication code' }), '654321');
    await userEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Dashboard' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/');
    expect(sent).toEqual([null, '111111', '654321']);
  });

  it('lets a member of several organisations choose one', async () => {
    const orgsSent: unknown[] = [];
    mockServer({
      ...authed,
      'POST /api/v1/auth/login': async (r) => {
        const body = (await r.json()) as { org?: string | null };
        orgsSent.push(body.org);
        if (!body.org) {
          return meridianProblem(422, 'validation_failed', {
            errors: [{ field: 'org', message: 'choose an organisation' }],
            current: [
              { id: 'org-a', name: 'Acme Sugar' },
              { id: 'org-b', name: 'Acme Power' },
            ],
          });
        }
        return json(tokenPair());
      },
    });
    renderApp('/login');
    await fillCredentials();
    await userEvent.click(await screen.findByRole('radio', { name: 'Acme Power' }));
    await userEvent.click(screen.getByRole('button', { name: 'Continue' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Dashboard' })).toBeInTheDocument();
    expect(orgsSent).toEqual([null, 'org-b']);
  });

  it('shows the lockout with the minutes from Retry-After', async () => {
    mockServer({
      'POST /api/v1/auth/login': () => meridianProblem(429, 'rate_limited', {}, { 'retry-after': '600' }),
    });
    renderApp('/login');
    await fillCredentials();
    const alert = await screen.findByTestId('login-error');
    expect(alert).toHaveTextContent('Account locked');
    expect(alert).toHaveTextContent('Try again in 10 minutes');
  });

  it('says nothing about which of email or password was wrong', async () => {
    mockServer({
      'POST /api/v1/auth/login': () =>
        meridianProblem(401, 'unauthorized', { detail: 'email or password is incorrect' }),
    });
    renderApp('/login');
    await fillCredentials();
    expect(await screen.findByTestId('login-error')).toHaveTextContent(
      'The email, password or code is not correct.',
    );
  });
});
