import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import LeadsTable from './LeadsTable.jsx';
import { parseHash } from '../lib/hash.js';

function lead(i, extra = {}) {
  return {
    row: i,
    id: `lead-${i}`,
    score: 100 - i,
    tier: i <= 2 ? 'High' : i <= 4 ? 'Medium' : 'Low',
    rank: i,
    label: null,
    reasons: {
      for: [{ column: 'Lead Source', value: 'Referral', points: 12.3, text: `Lead Source = Referral → +12.3 pts` }],
      against: [{ column: 'Visits', value: '0', points: -4.1, text: 'Visits = 0 → −4.1 pts' }],
    },
    display: { 'Prospect ID': `lead-${i}`, 'Lead Source': i % 2 ? 'Referral' : 'Google', Visits: i * 3 },
    ...extra,
  };
}

let calls;
function mockFetch(total = 120) {
  calls = [];
  globalThis.fetch = vi.fn(async (url) => {
    const u = new URL(url, 'http://x');
    calls.push(u);
    const offset = Number(u.searchParams.get('offset'));
    const limit = Number(u.searchParams.get('limit'));
    const leads = [];
    for (let i = offset + 1; i <= Math.min(total, offset + limit); i++) leads.push(lead(i, i === 1 ? { insight: { why: 'Came by referral and read three pages.', next_action: 'Call today', provider: 'gemini' } } : {}));
    return new Response(JSON.stringify({ leads, total, offset, limit }), { status: 200, headers: { 'Content-Type': 'application/json' } });
  });
}

const last = () => calls[calls.length - 1];
const params = (u) => Object.fromEntries(u.searchParams.entries());

function renderTable(props = {}) {
  return render(
    <LeadsTable runId={7} displayColumns={['Prospect ID', 'Lead Source', 'Visits']} idColumn="Prospect ID" debounceMs={0} exportHref="/api/runs/7/export.csv" {...props} />,
  );
}

describe('LeadsTable', () => {
  beforeEach(() => {
    window.history.replaceState(null, '', '#/dashboard/7');
    mockFetch();
  });
  afterEach(() => vi.restoreAllMocks());

  it('asks for the first page sorted by rank and renders it', async () => {
    renderTable();
    await screen.findByText('lead-1');
    expect(last().pathname).toBe('/api/runs/7/leads');
    expect(params(last())).toEqual({ sort: 'rank', order: 'asc', offset: '0', limit: '25' });
    const table = screen.getByRole('table', { name: 'Leads table' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(26); // header + 25
    const first = rows[1];
    expect(within(first).getByText('99.0')).toBeTruthy(); // score bar value
    expect(within(first).getByText('High')).toBeTruthy(); // tier badge
    expect(within(first).getByText('Referral')).toBeTruthy(); // display column
    // the reason's label and its points apart: the points never truncated
    const reason = within(first).getByTitle('Lead Source = Referral → +12.3 pts');
    expect(reason.textContent).toContain('Lead Source = Referral');
    expect(within(reason).getByText('+12.3 pts').className).toContain('shrink-0');
    // the insight under the reasons, its next action, the whole text in the tooltip
    const insight = within(first).getByTestId('insight');
    expect(insight.textContent).toContain('→ Call today');
    expect(insight.getAttribute('title')).toContain('Came by referral and read three pages.');
    expect(within(rows[2]).queryByTestId('insight')).toBeNull(); // no insight yet
    expect(screen.getByTestId('page-range').textContent).toBe('1–25 of 120');
    // the id column is the "Lead" column, not repeated; the insight is no column of its own
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent.replace(/[▲▼↕]/g, ''))).toEqual([
      'Rank',
      'Score',
      'Tier',
      'Lead',
      'Lead Source',
      'Visits',
      'Top reasons · insight',
    ]);
    // below 1280 px the display columns are hidden and shown under the lead's id
    expect(within(first).getByText('Referral · 3')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Export all 120 leads' }).getAttribute('href')).toBe('/api/runs/7/export.csv');
  });

  it('exports what the filters show', async () => {
    renderTable();
    await screen.findByText('lead-1');
    fireEvent.click(within(screen.getByRole('group', { name: 'Filter by tier' })).getByRole('button', { name: 'High' }));
    fireEvent.change(screen.getByLabelText('Search leads'), { target: { value: 'goo gle' } });
    await waitFor(() => expect(params(last())).toMatchObject({ tier: 'High', q: 'goo gle' }));
    const a = await screen.findByTestId('export');
    expect(a.getAttribute('href')).toBe('/api/runs/7/export.csv?tier=High&q=goo+gle');
    expect(a.textContent).toBe('Export 120 leads');
    mockFetch(1);
    fireEvent.click(within(screen.getByRole('group', { name: 'Filter by tier' })).getByRole('button', { name: 'Low' }));
    await waitFor(() => expect(screen.getByTestId('export').textContent).toBe('Export 1 lead'));
  });

  it('keeps sort, filter and page in the hash, and reads them back', async () => {
    const { unmount } = renderTable();
    await screen.findByText('lead-1');
    fireEvent.click(screen.getByRole('button', { name: /^Score/ }));
    await waitFor(() => expect(params(last())).toMatchObject({ sort: 'score', order: 'desc' }));
    fireEvent.click(within(screen.getByRole('group', { name: 'Filter by tier' })).getByRole('button', { name: 'Medium' }));
    await waitFor(() => expect(params(last())).toMatchObject({ tier: 'Medium' }));
    fireEvent.click(screen.getByRole('button', { name: 'Next →' }));
    await waitFor(() => expect(params(last()).offset).toBe('25'));
    expect(parseHash(window.location.hash)).toEqual({ page: 'dashboard', runId: 7, params: { tier: 'Medium', sort: 'score', order: 'desc', offset: '25' } });
    unmount();
    // a reload: the same page of the same view
    renderTable();
    await waitFor(() => expect(params(last())).toEqual({ tier: 'Medium', sort: 'score', order: 'desc', offset: '25', limit: '25' }));
    expect(within(screen.getByRole('group', { name: 'Filter by tier' })).getByRole('button', { name: 'Medium' }).getAttribute('aria-pressed')).toBe('true');
  });

  it('sorts from anywhere in the header cell', async () => {
    renderTable();
    await screen.findByText('lead-1');
    const th = screen.getByRole('columnheader', { name: /Visits/ });
    const button = within(th).getByRole('button');
    expect(button.className).toContain('w-full');
    expect(button.className).toContain('h-full');
  });


  it('pages forward and back', async () => {
    renderTable();
    await screen.findByText('lead-1');
    fireEvent.click(screen.getByRole('button', { name: 'Next →' }));
    await screen.findByText('lead-26');
    expect(params(last())).toMatchObject({ offset: '25', limit: '25' });
    expect(screen.getByTestId('page-range').textContent).toBe('26–50 of 120');
    fireEvent.click(screen.getByRole('button', { name: '← Previous' }));
    await screen.findByText('lead-1');
    expect(params(last()).offset).toBe('0');
    fireEvent.change(screen.getByLabelText('Per page'), { target: { value: '100' } });
    await waitFor(() => expect(params(last()).limit).toBe('100'));
    fireEvent.click(screen.getByRole('button', { name: 'Next →' }));
    await waitFor(() => expect(params(last()).offset).toBe('100'));
    await screen.findByText('lead-120');
    expect(screen.getByRole('button', { name: 'Next →' }).disabled).toBe(true);
  });

  it('sorts by any shown column, toggling the order, back to the first page', async () => {
    renderTable();
    await screen.findByText('lead-1');
    fireEvent.click(screen.getByRole('button', { name: 'Next →' }));
    await waitFor(() => expect(params(last()).offset).toBe('25'));

    fireEvent.click(screen.getByRole('button', { name: /^Score/ }));
    await waitFor(() => expect(params(last())).toMatchObject({ sort: 'score', order: 'desc', offset: '0' }));
    fireEvent.click(screen.getByRole('button', { name: /^Score/ }));
    await waitFor(() => expect(params(last())).toMatchObject({ sort: 'score', order: 'asc' }));
    expect(screen.getByRole('button', { name: /^Score/ }).closest('th').getAttribute('aria-sort')).toBe('ascending');

    fireEvent.click(screen.getByRole('button', { name: /^Lead Source/ }));
    await waitFor(() => expect(params(last())).toMatchObject({ sort: 'Lead Source', order: 'asc' }));
    expect(last().search).toContain('sort=Lead+Source');
    fireEvent.click(screen.getByRole('button', { name: /^Visits/ }));
    await waitFor(() => expect(params(last())).toMatchObject({ sort: 'Visits', order: 'asc' }));
    fireEvent.click(screen.getByRole('button', { name: /^Visits/ }));
    await waitFor(() => expect(params(last())).toMatchObject({ sort: 'Visits', order: 'desc' }));
    fireEvent.click(screen.getByRole('button', { name: /^Lead↕|^Lead$/ }));
    await waitFor(() => expect(params(last())).toMatchObject({ sort: 'id', order: 'asc' }));
    fireEvent.click(screen.getByRole('button', { name: /^Rank/ }));
    await waitFor(() => expect(params(last())).toMatchObject({ sort: 'rank', order: 'asc' }));
  });

  it('filters by tier and by text', async () => {
    renderTable();
    await screen.findByText('lead-1');
    const group = screen.getByRole('group', { name: 'Filter by tier' });
    fireEvent.click(within(group).getByRole('button', { name: 'High' }));
    await waitFor(() => expect(params(last())).toMatchObject({ tier: 'High', offset: '0' }));
    expect(within(group).getByRole('button', { name: 'High' }).getAttribute('aria-pressed')).toBe('true');

    fireEvent.change(screen.getByLabelText('Search leads'), { target: { value: '  google ' } });
    await waitFor(() => expect(params(last())).toMatchObject({ tier: 'High', q: 'google' }));

    fireEvent.click(within(group).getByRole('button', { name: 'All' }));
    await waitFor(() => expect(params(last()).tier).toBeUndefined());
    expect(params(last()).q).toBe('google');
  });

  it('shows an empty state and an error with retry', async () => {
    mockFetch(0);
    renderTable();
    await screen.findByText('No leads match');
    expect(screen.getByTestId('page-range').textContent).toBe('0–0 of 0');

    globalThis.fetch = vi.fn(async () => new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'run 7 not found' } }), { status: 404 }));
    fireEvent.click(screen.getByRole('button', { name: 'Next →' })); // disabled: nothing happens
    fireEvent.click(within(screen.getByRole('group', { name: 'Filter by tier' })).getByRole('button', { name: 'Low' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('run 7 not found');
    mockFetch(3);
    await act(async () => fireEvent.click(within(alert).getByRole('button', { name: 'Retry' })));
    await screen.findByText('lead-3');
  });

  it('opens a lead', async () => {
    const onOpen = vi.fn();
    renderTable({ onOpen });
    fireEvent.click(await screen.findByRole('button', { name: 'lead-2' }));
    expect(onOpen).toHaveBeenCalledWith(expect.objectContaining({ row: 2, id: 'lead-2' }));
  });
  it('asks again while a top lead waits for its insight, then shows it', async () => {
    let n = 0;
    globalThis.fetch = vi.fn(async () => {
      n++;
      const l1 = lead(1, { insight: n >= 3 ? { why: 'Referral, read the pricing page.', next_action: 'Call today', provider: 'llama' } : null });
      return new Response(JSON.stringify({ leads: [l1, lead(6, { insight: null })], total: 2, offset: 0, limit: 25 }), { status: 200 });
    });
    renderTable({ insightPollMs: 5 });
    await waitFor(() => expect(screen.getByTestId('insight').getAttribute('title')).toContain('Referral, read the pricing page.'));
    expect(n).toBe(3);
    await new Promise((r) => setTimeout(r, 50));
    expect(n).toBe(3); // no more asking once the top leads have theirs
  });
});
