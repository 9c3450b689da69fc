import { render, screen } from '@testing-library/react';
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
    expect(screen.getByText(/out-of-bag AUC 0.831/)).toBeTruthy();
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

  it('suggests questions with the run’s own column names', () => {
    const q = suggestedQuestions(run);
    expect(q[0]).toBe('Which lead source converts best?');
    expect(q).toContain('Why does Total Time Spent on Website matter so much?');
    expect(q).toContain('Which columns drifted, and does it matter?');
  });
});
