import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from './App.jsx';

describe('App', () => {
  afterEach(() => vi.restoreAllMocks());

  it('offers History and Upload for a deep link to a run that does not exist', async () => {
    window.history.replaceState(null, '', '#/dashboard/404');
    globalThis.fetch = vi.fn(async () => new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'run 404 not found' } }), { status: 404 }));
    render(<App />);
    const box = await screen.findByTestId('run-error');
    expect(box.textContent).toContain('Run #404 does not exist');
    expect(screen.getByRole('link', { name: 'Open a run from History' }).getAttribute('href')).toBe('#/history');
    expect(screen.getByRole('link', { name: 'Upload a CSV' }).getAttribute('href')).toBe('#/upload');
  });

  it('says "1 lead" for a one-lead run', async () => {
    window.history.replaceState(null, '', '#/history/1');
    const run = { run_id: 1, status: 'done', filename: 'one.csv', created: '2026-11-30T01:00:00Z', summary: { total: 1, tiers: { High: 1, Medium: 0, Low: 0 } } };
    globalThis.fetch = vi.fn(async (url) =>
      String(url).startsWith('/api/runs?') ? new Response(JSON.stringify({ runs: [], total: 0, offset: 0, limit: 50 }), { status: 200 }) : new Response(JSON.stringify(run), { status: 200 }),
    );
    render(<App />);
    expect((await screen.findByText(/^1 lead$/)).textContent).toBe('1 lead');
  });
});
