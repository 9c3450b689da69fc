import { useEffect, useRef, useState } from 'react';
import { api, prefetchLeads, runBody, uploadDataset } from '../lib/api.js';
import { fmtInt, fmtPct, plural } from '../lib/format.js';
import { btnPrimary, btnSecondary, Card, ErrorBox, inputCls, ProgressBar } from '../components/ui.jsx';

function mark(name) {
  if (typeof performance !== 'undefined' && performance.mark) performance.mark(name);
}

export const STAGES = [
  { key: 'queued', label: 'Queued' },
  { key: 'reading', label: 'Reading' },
  { key: 'training', label: 'Training' },
  { key: 'scoring', label: 'Scoring' },
  { key: 'explaining', label: 'Explaining' },
  { key: 'storing', label: 'Storing' },
  { key: 'done', label: 'Done' },
];

const typeColors = {
  numeric: 'bg-sky-100 text-sky-800',
  categorical: 'bg-violet-100 text-violet-800',
  boolean: 'bg-teal-100 text-teal-800',
  datetime: 'bg-orange-100 text-orange-800',
  identifier: 'bg-slate-200 text-slate-700',
  text: 'bg-pink-100 text-pink-800',
  constant: 'bg-slate-100 text-slate-500',
};

// Why "Score leads" cannot run yet, in one sentence (null: it can).
export function scoreBlocked(dataset, target, candidates) {
  const t = dataset.target;
  if (!target) {
    if (candidates.length === 0 || (dataset.rows != null && dataset.rows < 2))
      return `Scoring needs a model, and a model needs leads of both outcomes: this file has ${fmtInt(dataset.rows)} ${plural(dataset.rows, 'row')} and no column that could be the outcome. Upload a file with known outcomes.`;
    return 'Choose the outcome column above: the model learns from the leads whose outcome it gives.';
  }
  if (t && t.name === target && (t.positive_rows === 0 || t.negative_rows === 0))
    return `A model needs leads of both outcomes: “${target}” has ${fmtInt(t.positive_rows)} positive and ${fmtInt(t.negative_rows)} negative ${plural(t.negative_rows, 'lead')}.`;
  return null;
}

// The values a column can take as the outcome (for the positive-class choice).
function classesOf(dataset, target) {
  const t = dataset.target;
  if (t && t.name === target) return [t.positive, t.negative].filter((v) => v != null);
  const col = (dataset.columns || []).find((c) => c.name === target);
  if (!col) return [];
  if (Array.isArray(col.top)) return col.top.map((x) => x.value).slice(0, 10);
  if (col.true_label) return [col.true_label, col.false_label].filter(Boolean);
  return [];
}

export default function UploadPage({ onDone, pollMs = 400, prefetchOnDone = true }) {
  const [phase, setPhase] = useState('pick'); // pick | uploading | review | running
  const [file, setFile] = useState(null);
  const [progress, setProgress] = useState(0);
  const [dataset, setDataset] = useState(null);
  const [target, setTarget] = useState('');
  const [positive, setPositive] = useState('');
  const [keep, setKeep] = useState({});
  const [error, setError] = useState(null);
  const [run, setRun] = useState(null);
  const [dragOver, setDragOver] = useState(false);
  const inputRef = useRef(null);
  const alive = useRef(true);

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  async function start(f) {
    if (!f) return;
    setError(null);
    setFile(f);
    setProgress(0);
    setPhase('uploading');
    try {
      const ds = await uploadDataset(f, (loaded, total) => setProgress(total ? loaded / total : 0));
      if (!alive.current) return;
      setDataset(ds);
      setTarget(ds.target ? ds.target.name : '');
      setPositive(ds.target ? ds.target.positive : '');
      const k = {};
      for (const fl of ds.leakage || []) k[fl.column] = fl.level !== 'exclude';
      setKeep(k);
      setPhase('review');
    } catch (e) {
      if (!alive.current) return;
      setError(e);
      setPhase('pick');
    }
  }

  async function score() {
    setError(null);
    const body = runBody({ dataset, target, positive, flags: dataset.leakage || [], keep });
    try {
      const first = await api.createRun(body);
      setRun(first);
      setPhase('running');
      let r = first;
      while (alive.current && r.status !== 'done' && r.status !== 'failed') {
        await new Promise((res) => setTimeout(res, pollMs));
        if (!alive.current) return;
        r = await api.run(first.run_id);
        setRun(r);
      }
      if (!alive.current) return;
      if (r.status === 'failed') {
        setError(new Error(r.error || 'the run failed'));
        setPhase('review');
        return;
      }
      mark('ls:run-done');
      if (r.status === 'done' && prefetchOnDone) prefetchLeads(r.run_id);
      if (onDone) onDone(r.run_id, r);
    } catch (e) {
      if (!alive.current) return;
      setError(e);
      setPhase('review');
    }
  }

  function onDrop(e) {
    e.preventDefault();
    setDragOver(false);
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (f) start(f);
  }

  const columns = dataset ? dataset.columns || [] : [];
  const flags = dataset ? dataset.leakage || [] : [];
  const classes = dataset ? classesOf(dataset, target) : [];
  const targetCandidates = columns.filter((c) => c.type !== 'identifier' && c.type !== 'constant' && c.type !== 'text');
  const blocked = dataset ? scoreBlocked(dataset, target, targetCandidates) : null;

  return (
    <div className="mx-auto max-w-5xl space-y-4">
      <h1 className="text-xl font-semibold">Upload leads</h1>
      <ErrorBox error={error} title={phase === 'pick' ? 'Upload failed' : 'Could not score'} />

      {(phase === 'pick' || phase === 'uploading') && (
        <Card title="1. Choose a CSV file">
          <div
            onDragOver={(e) => {
              e.preventDefault();
              setDragOver(true);
            }}
            onDragLeave={() => setDragOver(false)}
            onDrop={onDrop}
            data-testid="dropzone"
            className={`flex flex-col items-center justify-center gap-3 rounded-xl border-2 border-dashed p-10 text-center transition ${
              dragOver ? 'border-indigo-500 bg-indigo-50' : 'border-slate-300 bg-slate-50'
            }`}
          >
            <p className="text-slate-700">Drop a CSV of leads here, or</p>
            <label className={btnPrimary + ' cursor-pointer focus-within:outline-2 focus-within:outline-indigo-600'}>
              Choose a CSV file
              <input
                ref={inputRef}
                type="file"
                accept=".csv,text/csv"
                className="sr-only"
                aria-label="CSV file of leads"
                disabled={phase === 'uploading'}
                onChange={(e) => start(e.target.files && e.target.files[0])}
              />
            </label>
            <p className="text-xs text-slate-500">Up to 200 MB. The file stays on this server.</p>
          </div>
          {phase === 'uploading' && (
            <div className="mt-4 space-y-1">
              <div className="flex justify-between text-sm">
                <span>Uploading {file && file.name}…</span>
                <span className="tabular-nums" data-testid="upload-pct">{Math.round(progress * 100)} %</span>
              </div>
              <ProgressBar value={progress} label="Upload progress" />
              {progress >= 1 && <p className="text-xs text-slate-500">Reading and profiling the file…</p>}
            </div>
          )}
        </Card>
      )}

      {dataset && phase !== 'pick' && phase !== 'uploading' && (
        <>
          <Card title="2. Check what was found">
            <p className="mb-3 text-sm text-slate-700">
              <span className="font-medium">{dataset.filename}</span>: {fmtInt(dataset.rows)} {plural(dataset.rows, 'lead')} × {fmtInt(dataset.column_count)} {plural(dataset.column_count, 'column')}
              {dataset.existed ? ' (this file was uploaded before)' : ''}.
            </p>
            <div className="grid gap-4 md:grid-cols-2">
              <div>
                <label htmlFor="target" className="block text-sm font-medium text-slate-700">
                  Outcome column (target)
                </label>
                <select
                  id="target"
                  className={inputCls + ' mt-1 w-full'}
                  value={target}
                  disabled={phase === 'running'}
                  onChange={(e) => {
                    setTarget(e.target.value);
                    const d = dataset.target;
                    setPositive(d && d.name === e.target.value ? d.positive : '');
                  }}
                >
                  {!target && <option value="">— choose the outcome column —</option>}
                  {targetCandidates.map((c) => (
                    <option key={c.name} value={c.name}>
                      {c.name}
                    </option>
                  ))}
                </select>
                {dataset.target && dataset.target.name === target ? (
                  <p className="mt-1 text-xs text-slate-600" data-testid="target-reason">
                    Detected with confidence {fmtPct(dataset.target.confidence, 0)}: {dataset.target.reason}.{' '}
                    {fmtInt(dataset.target.positive_rows)} positive, {fmtInt(dataset.target.negative_rows)} negative,{' '}
                    {fmtInt(dataset.target.unknown_rows)} unknown.
                  </p>
                ) : !dataset.target ? (
                  <p className="mt-1 text-xs text-amber-700">No outcome column was detected; choose one.</p>
                ) : null}
              </div>
              <div>
                <label htmlFor="positive" className="block text-sm font-medium text-slate-700">
                  Positive class (means “converted”)
                </label>
                <select
                  id="positive"
                  className={inputCls + ' mt-1 w-full'}
                  value={positive}
                  disabled={phase === 'running'}
                  onChange={(e) => setPositive(e.target.value)}
                >
                  <option value="">automatic</option>
                  {classes.map((v) => (
                    <option key={v} value={v}>
                      {v}
                    </option>
                  ))}
                </select>
              </div>
            </div>

            {flags.length > 0 && (
              <fieldset className="mt-5">
                <legend className="text-sm font-semibold text-slate-800">Leakage: columns that may give the outcome away</legend>
                <p className="text-xs text-slate-600">
                  Filled in by sales after the outcome, they make the model look better than it is. Flagged “exclude” columns are left out unless kept.
                </p>
                <ul className="mt-2 space-y-2">
                  {flags.map((f) => (
                    <li key={f.column} className="rounded-lg border border-amber-200 bg-amber-50 p-3">
                      <label className="flex items-start gap-2">
                        <input
                          type="checkbox"
                          className="mt-1 h-4 w-4"
                          checked={!!keep[f.column]}
                          disabled={phase === 'running'}
                          onChange={(e) => setKeep({ ...keep, [f.column]: e.target.checked })}
                          aria-describedby={`leak-${f.column}`}
                        />
                        <span>
                          <span className="font-medium">Keep “{f.column}”</span>{' '}
                          <span className="rounded bg-amber-200 px-1.5 text-xs font-semibold uppercase text-amber-900">{f.level}</span>
                          {f.auc != null && <span className="ml-2 text-xs text-slate-600">alone: AUC {f.auc.toFixed(2)}</span>}
                          <span id={`leak-${f.column}`} className="mt-0.5 block text-sm text-slate-700">
                            {f.reason}
                          </span>
                        </span>
                      </label>
                    </li>
                  ))}
                </ul>
              </fieldset>
            )}

            {dataset.warnings && dataset.warnings.length > 0 && (
              <details className="mt-4 text-sm text-slate-700">
                <summary className="cursor-pointer">
                  {dataset.warnings.length} {plural(dataset.warnings.length, 'warning')}
                </summary>
                <ul className="mt-1 list-disc pl-5">
                  {dataset.warnings.map((w, i) => (
                    <li key={i}>{w}</li>
                  ))}
                </ul>
              </details>
            )}

            <details className="mt-4" open>
              <summary className="cursor-pointer text-sm font-semibold text-slate-800">Column types ({columns.length})</summary>
              <div className="mt-2 max-h-64 overflow-auto rounded-lg border border-slate-200">
                <table className="w-full text-sm">
                  <thead className="sticky top-0 bg-slate-100 text-left text-xs uppercase text-slate-600">
                    <tr>
                      <th className="px-3 py-1.5">Column</th>
                      <th className="px-3 py-1.5">Type</th>
                      <th className="px-3 py-1.5 text-right">Missing</th>
                      <th className="px-3 py-1.5 text-right">Distinct</th>
                    </tr>
                  </thead>
                  <tbody>
                    {columns.map((c) => (
                      <tr key={c.name} className="border-t border-slate-100">
                        <td className="px-3 py-1">{c.name}</td>
                        <td className="px-3 py-1">
                          <span className={`rounded px-1.5 py-0.5 text-xs ${typeColors[c.type] || 'bg-slate-100'}`}>{c.type}</span>
                        </td>
                        <td className="px-3 py-1 text-right tabular-nums">{fmtPct(c.missing_pct != null ? c.missing_pct / 100 : null)}</td>
                        <td className="px-3 py-1 text-right tabular-nums">{fmtInt(c.distinct)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          </Card>

          <Card title="3. Score">
            {phase === 'review' ? (
              <div className="flex flex-wrap items-center gap-3">
                <button type="button" className={btnPrimary} onClick={score} disabled={!!blocked} aria-describedby={blocked ? 'score-blocked' : undefined}>
                  Score leads
                </button>
                <button
                  type="button"
                  className={btnSecondary}
                  onClick={() => {
                    setDataset(null);
                    setPhase('pick');
                    setError(null);
                  }}
                >
                  Choose another file
                </button>
              </div>
            ) : (
              <Stages run={run} />
            )}
            {phase === 'review' && blocked ? (
              <p id="score-blocked" className="mt-2 text-sm text-amber-800" data-testid="score-blocked">
                {blocked}
              </p>
            ) : null}
          </Card>
        </>
      )}
    </div>
  );
}

export function Stages({ run }) {
  const stage = run ? (run.status === 'done' ? 'done' : run.stage || run.status) : 'queued';
  const idx = STAGES.findIndex((s) => s.key === stage);
  return (
    <div aria-live="polite">
      <ol className="flex flex-wrap gap-2" aria-label="Processing stages">
        {STAGES.map((s, i) => {
          const state = idx < 0 ? 'waiting' : i < idx ? 'done' : i === idx ? 'now' : 'waiting';
          return (
            <li
              key={s.key}
              data-state={state}
              aria-current={state === 'now' ? 'step' : undefined}
              className={`rounded-full px-3 py-1 text-sm ${
                state === 'done'
                  ? 'bg-emerald-100 text-emerald-800'
                  : state === 'now'
                    ? 'bg-indigo-600 font-semibold text-white'
                    : 'bg-slate-100 text-slate-500'
              }`}
            >
              {state === 'done' ? '✓ ' : ''}
              {s.label}
            </li>
          );
        })}
      </ol>
      <div className="mt-3">
        <ProgressBar value={run && run.status === 'done' ? 1 : run ? run.progress : 0} label="Stage progress" />
        <p className="mt-1 text-sm text-slate-600" data-testid="stage-text">
          {run ? (run.status === 'done' ? 'Done.' : `${stage}${run.progress != null ? ` — ${Math.round(run.progress * 100)} %` : ''}`) : 'Starting…'}
        </p>
      </div>
    </div>
  );
}
