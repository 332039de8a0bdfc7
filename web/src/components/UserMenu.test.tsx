import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { REFRESH_TOKEN_KEY } from '../auth/session';
import { ADMIN, calls, json, meridianProblem, mockServer, renderApp, signedIn } from '../test/utils';

const system = {
  'GET /health': () => json({ status: 'ok', version: '0.1.0' }),
  'GET /ready': () => json({ status: 'ready', database: 'sqlite' }),
};

describe('User menu', () => {
  it('shows name, organisation and role, and signs out through the server', async () => {
    const fetchMock = mockServer({ ...signedIn(ADMIN), ...system });
    const { router } = renderApp('/crm');
    const menu = await screen.findByRole('button', { name: 'User menu' });
    await screen.findByText('Ada Admin');
    await userEvent.click(menu);
    const dropdown = await screen.findByRole('menu');
    expect(dropdown).toHaveTextContent('Ada Admin');
    expect(dropdown).toHaveTextContent('admin@acme.test');
    expect(dropdown).toHaveTextContent('Acme Test');
    expect(within(dropdown).getByTestId('user-role')).toHaveTextContent('Admin');

    // the refresh token the session holds now (it was rotated on the first request)
    const token = localStorage.getItem(REFRESH_TOKEN_KEY);
    await userEvent.click(within(dropdown).getByRole('menuitem', { name: 'Sign out', hidden: true }));
    expect(await screen.findByRole('heading', { name: 'Sign in to Meridian' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    // an on-purpose sign-out does not send the next person back to /crm
    expect(router.state.location.state).toBeNull();
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
    const logout = calls(fetchMock).find((r) => r.url.endsWith('/api/v1/auth/logout'));
    expect(await logout?.json()).toEqual({ refresh_token: token });
  });

  it('enrols TOTP: QR code and secret, confirm with a code, recovery codes once', async () => {
    const codes = ['aaaa-1111', 'bbbb-2222', 'cccc-3333', 'dddd-4444'];
    mockServer({
      ...signedIn(ADMIN),
      ...system,
      'POST /api/v1/auth/totp/enroll': () =>
        json({
          data: {
            secret: 'JBSWY3DPEHPK3PXPJBSWY3DP',
            otpauth_uri:
              'otpauth://totp/Meridian:admin@acme.test?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Meridian',
          },
        }),
      'POST /api/v1/auth/totp/confirm': async (r) => {
        const { code } = (await r.json()) as { code: string };
        return code === '123456'
          ? json({ data: { recovery_codes: codes } })
          : meridianProblem(422, 'validation_failed', {
              errors: [{ field: 'code', message: 'is not valid' }],
            });
      },
    });
    renderApp('/');
    await screen.findByText('Ada Admin');
    await userEvent.click(screen.getByRole('button', { name: 'User menu' }));
    await userEvent.click(await screen.findByRole('menuitem', { name: 'Security' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Set up two-step verification' }));

    expect(await screen.findByTitle('QR code of the TOTP secret')).toBeInTheDocument();
    expect(screen.getByTestId('totp-qr').querySelector('svg path')).not.toBeNull();
    expect(screen.getByTestId('totp-secret')).toHaveTextContent('JBSW Y3DP EHPK 3PXP JBSW Y3DP');

    const field = screen.getByRole('textbox', { name: 'Code from the app' });
    await userEvent.type(field, '000000');
    await userEvent.click(screen.getByRole('button', { name: 'Turn on' }));
    expect(await screen.findByText('is not valid')).toBeInTheDocument();

    await userEvent.clear(field);
    await userEvent.type(field, '123456');
    await userEvent.click(screen.getByRole('button', { name: 'Turn on' }));
    const list = await screen.findByTestId('recovery-codes');
    for (const c of codes) expect(list).toHaveTextContent(c);
    expect(screen.getByRole('button', { name: 'Copy codes' })).toBeInTheDocument();
  });
});
