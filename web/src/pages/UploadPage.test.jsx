import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import UploadPage, { scoreBlocked } from './UploadPage.jsx';
import { runBody } from '../lib/api.js';

const dataset = {
  dataset_id: 4,
  filename: 'Leads.csv',
  rows: 9237,
  column_count: 5,
  existed: false,
  columns: [
    { name: 'Prospect ID', type: 'identifier', missing: 0, missing_pct: 0, distinct: 9237 },
    { name: 'Lead Source', type: 'categorical', missing: 36, missing_pct: 0.39, distinct: 20, top: [{ value: 'Google', count: 2868 }] },
    { name: 'Converted', type: 'categorical', missing: 0, missing_pct: 0, distinct: 2, top: [{ value: '0', count: 5678 }, { value: '1', count: 3559 }] },
    { name: 'Tags', type: 'categorical', missing: 3353, missing_pct: 36.3, distinct: 26 },
    { name: 'Lead Quality', type: 'categorical', missing: 4767, missing_pct: 51.6, distinct: 5 },
  ],
  target: { name: 'Converted', positive: '1', negative: '0', confidence: 0.99, reason: "its name matches 'converted' and it has two classes 0/1", positive_rows: 3559, negative_rows: 5678, unknown_rows: 0 },
  leakage: [
    { column: 'Tags', level: 'exclude', auc: 0.916, reason: '11 values of ≥ 97 % one class carry 37 % of the labelled rows' },
    { column: 'Lead Quality', level: 'exclude', auc: 0.788, reason: "Its name reads like a field filled after the outcome ('quality')" },
  ],
  warnings: ["column 'Magazine' is constant and will not be used"],
  preview: [],
};

let xhrs;
class FakeXHR {
  constructor() {
    this.upload = {};
    this.headers = {};
    xhrs.push(this);
  }
  open(method, url) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k, v) {
    this.headers[k] = v;
  }
  send(body) {
    this.body = body;
  }
  // test side
  progress(loaded, total) {
    this.upload.onprogress({ loaded, total, lengthComputable: true });
  }
  respond(status, body) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload();
  }
}

let posts;
let runAnswers;
function mockFetch() {
  posts = [];
  globalThis.fetch = vi.fn(async (url, init = {}) => {
    if (url === '/api/runs' && init.method === 'POST') {
      posts.push(JSON.parse(init.body));
      return new Response(JSON.stringify({ run_id: 12, status: 'queued' }), { status: 202 });
    }
    if (url === '/api/runs/12') {
      const next = runAnswers.length > 1 ? runAnswers.shift() : runAnswers[0];
      return new Response(JSON.stringify(next), { status: 200 });
    }
    return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such route' } }), { status: 404 });
  });
}

const file = () => new File(['Prospect ID,Converted\na,1\n'], 'Leads.csv', { type: 'text/csv' });

async function uploadTo(review = true) {
  fireEvent.change(screen.getByLabelText('CSV file of leads'), { target: { files: [file()] } });
  const x = xhrs[0];
  expect(x.method).toBe('POST');
  expect(x.url).toBe('/api/datasets');
  expect(x.body.get('file').name).toBe('Leads.csv');
  act(() => x.progress(250, 1000));
  expect(screen.getByTestId('upload-pct').textContent).toBe('25 %');
  expect(screen.getByRole('progressbar', { name: 'Upload progress' }).getAttribute('aria-valuenow')).toBe('25');
  act(() => x.progress(1000, 1000));
  expect(screen.getByRole('progressbar', { name: 'Upload progress' }).getAttribute('aria-valuenow')).toBe('100');
  if (review) {
    await act(async () => x.respond(201, dataset));
    await screen.findByRole('button', { name: 'Score leads' });
  }
  return x;
}

describe('Upload flow', () => {
  beforeEach(() => {
    xhrs = [];
    globalThis.XMLHttpRequest = FakeXHR;
    mockFetch();
    runAnswers = [
      { run_id: 12, status: 'running', stage: 'training', progress: 0.5 },
      { run_id: 12, status: 'running', stage: 'explaining', progress: 0.25 },
      { run_id: 12, status: 'done', stage: 'done', progress: 1 },
    ];
  });
  afterEach(() => vi.restoreAllMocks());

  it('uploads with a progress bar, shows target, positive class, column types and leakage flags', async () => {
    render(<UploadPage onDone={() => {}} pollMs={1} />);
    await uploadTo();
    expect(screen.getByLabelText('Outcome column (target)').value).toBe('Converted');
    expect(screen.getByLabelText('Positive class (means “converted”)').value).toBe('1');
    expect(screen.getByTestId('target-reason').textContent).toContain('3,559 positive');
    const tags = screen.getByRole('checkbox', { name: /Keep “Tags”/ });
    expect(tags.checked).toBe(false); // left out by default
    expect(screen.getByText(/11 values of ≥ 97 %/)).toBeTruthy(); // its reason
    const types = screen.getByText('Column types (5)').closest('details');
    expect(within(types).getByText('identifier')).toBeTruthy();
    expect(within(types).getAllByText('categorical')).toHaveLength(4);
    // the identifier is not offered as a target
    const opts = Array.from(screen.getByLabelText('Outcome column (target)').options).map((o) => o.value);
    expect(opts).not.toContain('Prospect ID');
  });

  it('says in one sentence why Score is disabled', async () => {
    render(<UploadPage onDone={() => {}} pollMs={1} />);
    fireEvent.change(screen.getByLabelText('CSV file of leads'), { target: { files: [file()] } });
    const oneRow = { ...dataset, rows: 1, target: null, columns: dataset.columns.map((c) => ({ ...c, type: 'constant' })) };
    await act(async () => xhrs[0].respond(201, oneRow));
    const button = await screen.findByRole('button', { name: 'Score leads' });
    expect(button.disabled).toBe(true);
    expect(screen.getByTestId('score-blocked').textContent).toBe(
      'Scoring needs a model, and a model needs leads of both outcomes: this file has 1 row and no column that could be the outcome. Upload a file with known outcomes.',
    );
    expect(button.getAttribute('aria-describedby')).toBe('score-blocked');
    expect(screen.getByText(/1 lead × 5 columns/)).toBeTruthy();
  });

  it('names the reason for a file without an outcome, or with one outcome only', () => {
    const cands = [{ name: 'Converted' }];
    expect(scoreBlocked({ ...dataset, target: null }, '', cands)).toBe('Choose the outcome column above: the model learns from the leads whose outcome it gives.');
    expect(scoreBlocked({ ...dataset, target: { ...dataset.target, negative_rows: 0 } }, 'Converted', cands)).toBe(
      'A model needs leads of both outcomes: “Converted” has 3,559 positive and 0 negative leads.',
    );
    expect(scoreBlocked(dataset, 'Converted', cands)).toBeNull();
  });

  it('by default posts only the data set (wait:false), and polls the stages until done', async () => {
    const onDone = vi.fn();
    render(<UploadPage onDone={onDone} pollMs={1} />);
    await uploadTo();
    fireEvent.click(screen.getByRole('button', { name: 'Score leads' }));
    await waitFor(() => expect(onDone).toHaveBeenCalledWith(12, expect.objectContaining({ status: 'done' })));
    expect(posts).toEqual([{ dataset_id: 4, wait: false }]);
    const stages = screen.getByRole('list', { name: 'Processing stages' });
    expect(within(stages).getAllByRole('listitem').map((li) => li.dataset.state)).toEqual(['done', 'done', 'done', 'done', 'done', 'done', 'now']);
  });

  it('shows the stage being run', async () => {
    runAnswers = [{ run_id: 12, status: 'running', stage: 'explaining', progress: 0.25 }];
    render(<UploadPage onDone={() => {}} pollMs={1} />);
    await uploadTo();
    fireEvent.click(screen.getByRole('button', { name: 'Score leads' }));
    await waitFor(() => expect(screen.getByTestId('stage-text').textContent).toBe('explaining — 25 %'));
    const now = screen.getByRole('list', { name: 'Processing stages' }).querySelector('[aria-current="step"]');
    expect(now.textContent).toBe('Explaining');
    expect(screen.getByRole('progressbar', { name: 'Stage progress' }).getAttribute('aria-valuenow')).toBe('25');
  });

  it('a kept leaky column changes the POST body', async () => {
    const onDone = vi.fn();
    render(<UploadPage onDone={onDone} pollMs={1} />);
    await uploadTo();
    fireEvent.click(screen.getByRole('checkbox', { name: /Keep “Tags”/ }));
    expect(screen.getByRole('checkbox', { name: /Keep “Tags”/ }).checked).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Score leads' }));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    // include_leaky keeps both flagged columns; the one not kept is excluded by name
    expect(posts).toEqual([{ dataset_id: 4, wait: false, include_leaky: true, exclude: ['Lead Quality'] }]);
  });

  it('a changed target and positive class go into the POST body', async () => {
    const onDone = vi.fn();
    render(<UploadPage onDone={onDone} pollMs={1} />);
    await uploadTo();
    fireEvent.change(screen.getByLabelText('Positive class (means “converted”)'), { target: { value: '0' } });
    fireEvent.click(screen.getByRole('button', { name: 'Score leads' }));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(posts[0]).toEqual({ dataset_id: 4, wait: false, positive: '0' });
    expect(runBody({ dataset, target: 'Lead Source', positive: '', flags: dataset.leakage, keep: { Tags: true, 'Lead Quality': true } })).toEqual({
      dataset_id: 4,
      wait: false,
      target: 'Lead Source',
      include_leaky: true,
    });
  });

  it('shows the server error of a failed upload and lets the user pick again', async () => {
    render(<UploadPage onDone={() => {}} pollMs={1} />);
    const x = await uploadTo(false);
    await act(async () => x.respond(415, { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'this is not a CSV file' } }));
    expect((await screen.findByRole('alert')).textContent).toContain('this is not a CSV file');
    expect(screen.getByLabelText('CSV file of leads')).toBeTruthy();
  });

  it('shows a failed run', async () => {
    runAnswers = [{ run_id: 12, status: 'failed', error: 'fewer than 50 leads with a known outcome' }];
    render(<UploadPage onDone={() => {}} pollMs={1} />);
    await uploadTo();
    fireEvent.click(screen.getByRole('button', { name: 'Score leads' }));
    expect((await screen.findByRole('alert')).textContent).toContain('fewer than 50 leads');
  });
});
