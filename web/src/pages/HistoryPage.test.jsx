import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import HistoryPage from './HistoryPage.jsx';

let runs;
let deleted;
beforeEach(() => {
  deleted = [];
  runs = [
    { run_id: 2, filename: 'Leads.csv', status: 'done', created: '2026-11-30T01:14:20.997Z', total: 9237, tiers: { High: 2772, Medium: 1317, Low: 5148 }, auc: 0.9314, target: 'Converted', positive: '0', kept_leaky: ['Tags'] },
    { run_id: 1, filename: 'demo-leads.csv', status: 'done', created: '2026-11-30T01:14:08.368Z', total: 5000, tiers: { High: 231, Medium: 2495, Low: 2274 }, auc: 0.73, target: 'Converted', positive: '1', kept_leaky: [] },
  ];
  globalThis.fetch = vi.fn(async (url, init = {}) => {
    if (init.method === 'DELETE') {
      const id = Number(url.split('/').pop());
      deleted.push(id);
      runs = runs.filter((r) => r.run_id !== id);
      return new Response(JSON.stringify({ deleted: true }), { status: 200 });
    }
    return new Response(JSON.stringify({ runs, total: runs.length, offset: 0, limit: 50 }), { status: 200 });
  });
});
afterEach(() => vi.restoreAllMocks());

describe('History', () => {
  it('lists runs with file, leads, tiers and quality; opens one', async () => {
    const onOpen = vi.fn();
    render(<HistoryPage currentRunId={2} onOpen={onOpen} />);
    const row = (await screen.findByText('Leads.csv')).closest('tr');
    expect(within(row).getByText('9,237')).toBeTruthy();
    expect(row.textContent).toContain('2,772 / 1,317 / 5,148');
    expect(within(row).getByText('excellent')).toBeTruthy();
    expect(within(row).getByText('AUC 0.931 on this file').getAttribute('title')).toBe("AUC 0.931 on this file's known outcomes");
    // the positive class tells runs of one file apart; a kept leaky column is flagged
    expect(within(row).getByTestId('run-positive').textContent).toBe('Converted = 0');
    expect(within(row).getByTestId('run-leaky').textContent).toContain('leaky kept: Tags');
    const other = screen.getByText('demo-leads.csv').closest('tr');
    expect(within(other).getByTestId('run-positive').textContent).toBe('Converted = 1');
    expect(within(other).queryByTestId('run-leaky')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Open run 1' }));
    expect(onOpen).toHaveBeenCalledWith(1);
  });

  it('deletes only after confirmation', async () => {
    const onDeleted = vi.fn();
    render(<HistoryPage currentRunId={2} onOpen={() => {}} onDeleted={onDeleted} />);
    await screen.findByText('demo-leads.csv');
    fireEvent.click(screen.getByRole('button', { name: 'Delete run 1' }));
    expect(deleted).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(deleted).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Delete run 1' }));
    fireEvent.click(within(screen.getByRole('group', { name: 'Confirm deleting run 1' })).getByRole('button', { name: 'Yes, delete' }));
    await waitFor(() => expect(screen.queryByText('demo-leads.csv')).toBeNull());
    expect(deleted).toEqual([1]);
    expect(onDeleted).toHaveBeenCalledWith(1);
  });

  it('shows an empty state', async () => {
    runs = [];
    render(<HistoryPage onOpen={() => {}} />);
    await screen.findByText('No runs yet');
  });
});
