import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import DashboardPage from './DashboardPage.jsx';
import { suggestedQuestions } from '../lib/format.js';

const run = {
  run_id: 3,
  model_id: 2,
  filename: 'new-leads.csv',
  status: 'done',
  target: 'Converted',
  summary: { total: 1200, tiers: { High: 300, Medium: 400, Low: 500 }, labelled: 1000, conversion_rate: 0.385, expected_conversions: 450.4 },
  metrics: null,
  drift: {
    status: 'drift',
    columns: {
      'Lead Source': { psi: 2.51, unseen_share: 0.3, status: 'drift' },
      'Total Time Spent on Website': { psi: 0.53, unseen_share: 0, status: 'drift' },
      Country: { psi: 0.12, unseen_share: 0, status: 'watch' },
      City: { psi: 0, unseen_share: 0, status: 'ok' },
    },
  },
  importance: [{ column: 'Total Time Spent on Website', mean_abs_points: 13 }, { column: 'Lead Profile', mean_abs_points: 6 }],
  display_columns: ['Prospect ID', 'Lead Source'],
  top_leads: [{ row: 1, id: 'a', display: { 'Prospect ID': 'a', 'Lead Source': 'Google' } }],
};

describe('Dashboard', () => {
  beforeEach(() => {
    window.history.replaceState(null, '', '#/dashboard/3');
    globalThis.fetch = vi.fn(async () => new Response(JSON.stringify({ leads: [], total: 0, offset: 0, limit: 25 }), { status: 200 }));
  });
  afterEach(() => vi.restoreAllMocks());

  it('shows the stat cards, model quality in words and a drift alert naming the drifting columns', async () => {
    render(<DashboardPage run={run} model={{ metrics: { auc: 0.8312 } }} />);
    expect(screen.getByTestId('stat-total').textContent).toBe('1,200');
    expect(screen.getByTestId('stat-high').textContent).toBe('300');
    expect(screen.getByTestId('stat-tiers').textContent).toBe('Medium 400 · Low 500');
    expect(screen.getByText('450')).toBeTruthy();
    expect(screen.getByText('38.5 %')).toBeTruthy();
    expect(screen.getByText('good')).toBeTruthy();
    expect(screen.getByTestId('auc-text').textContent).toContain('out-of-bag AUC 0.831');
    expect(screen.getByTestId('positive').textContent).toContain('Converted');
    expect(screen.queryByTestId('leaky-alert')).toBeNull();
    const alert = screen.getByTestId('drift-alert');
    expect(alert.textContent).toContain('Lead Source (PSI 2.51, 30 % unseen)');
    expect(alert.textContent).toContain('Total Time Spent on Website (PSI 0.53)');
    expect(alert.textContent).not.toContain('City');
    // the leads table asks the server for its first page
    await screen.findByText('No leads match');
    expect(String(globalThis.fetch.mock.calls[0][0])).toBe('/api/runs/3/leads?sort=rank&order=asc&offset=0&limit=25');
  });

  it('shows no drift alert when drift is ok, and the stages of an unfinished run', () => {
    const { unmount } = render(<DashboardPage run={{ ...run, drift: { status: 'ok', columns: {} } }} model={null} />);
    expect(screen.queryByTestId('drift-alert')).toBeNull();
    unmount();
    render(<DashboardPage run={{ run_id: 4, status: 'running', stage: 'training', progress: 0.4 }} />);
    expect(screen.getByTestId('stage-text').textContent).toBe('training — 40 %');
  });

  it('says which AUC it shows: the scored file’s, with the out-of-bag one beside it', () => {
    render(<DashboardPage run={{ ...run, metrics: { auc: 0.8 } }} model={{ metrics: { auc: 0.85 } }} />);
    expect(screen.getByTestId('auc-text').textContent).toBe(
      "AUC 0.800 on this file's known outcomes (out-of-bag 0.850): ranks a converter above a non-converter 80 % of the time",
    );
  });

  it('warns beside model quality when the model kept flagged leaky columns, and names the positive class', () => {
    render(<DashboardPage run={{ ...run, positive: '0', kept_leaky: ['Tags', 'Lead Quality'] }} model={{ metrics: { auc: 0.98 } }} />);
    const alert = screen.getByTestId('leaky-alert');
    expect(alert.textContent).toContain('Leaky columns kept: Tags, Lead Quality were flagged');
    expect(screen.getByTestId('quality-leaky').textContent).toContain('⚠ leaky columns kept: Tags, Lead Quality');
    expect(screen.getByTestId('positive').textContent).toContain('Converted = 0');
  });

  it('warns for a model stored before kept_leaky that was trained with include_leaky', () => {
    render(<DashboardPage run={run} model={{ metrics: { auc: 0.98 }, options: { include_leaky: true } }} />);
    expect(screen.getByTestId('leaky-alert').textContent).toContain('the columns the leakage scan flagged');
  });

  it('puts the open lead in the hash: a reload opens it again, Back closes it', async () => {
    const lead = { row: 5, id: 'lead-5', score: 80, tier: 'High', rank: 1, label: 0, reasons: null, display: {} };
    globalThis.fetch = vi.fn(async (url) =>
      String(url).includes('/leads/5')
        ? new Response(JSON.stringify({ ...lead, fields: { City: 'Select' }, contributions: [{ column: 'City', value: null, points: -2 }], base: 40, raw: 0.8 }), { status: 200 })
        : new Response(JSON.stringify({ leads: [lead], total: 1, offset: 0, limit: 25 }), { status: 200 }),
    );
    render(<DashboardPage run={{ ...run, positive: '1' }} model={null} />);
    fireEvent.click(await screen.findByRole('button', { name: 'lead-5' }));
    expect(window.location.hash).toBe('#/dashboard/3?lead=5');
    await screen.findByRole('dialog');
    // the file's outcome in terms of the positive class, not "converted"
    expect((await screen.findByTestId('outcome')).textContent).toBe('· outcome in file: Converted ≠ 1 (negative class)');
    expect(screen.getByText('City = missing (file: Select)')).toBeTruthy();
    expect(screen.getByText('(read as missing)')).toBeTruthy();
    // Back: the hash without the lead
    await act(async () => {
      window.history.replaceState(null, '', '#/dashboard/3');
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('opens the lead of a linked or reloaded hash', async () => {
    window.history.replaceState(null, '', '#/dashboard/3?lead=5');
    globalThis.fetch = vi.fn(async () => new Response(JSON.stringify({ leads: [], total: 0, offset: 0, limit: 25 }), { status: 200 }));
    render(<DashboardPage run={run} model={null} />);
    expect(screen.getByRole('dialog')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Close lead details' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(window.location.hash).toBe('#/dashboard/3');
  });

  it('suggests questions with the run’s own column names', () => {
    const q = suggestedQuestions(run);
    expect(q[0]).toBe('Which lead source converts best?');
    expect(q).toContain('Why does Total Time Spent on Website matter so much?');
    expect(q).toContain('Which columns drifted, and does it matter?');
  });
});
