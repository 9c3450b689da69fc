import { useEffect, useRef, useState } from 'react';
import { api } from '../lib/api.js';
import { displayValue, fmtInt, fmtPts, fmtScore } from '../lib/format.js';
import { btnSecondary, ErrorBox, Spinner, TierBadge } from './ui.jsx';

const TOP = 10;

// A value the model read as missing, with what the file wrote when it wrote
// something ("Select" placeholders): "missing (Select)".
export function missingLabel(value, raw) {
  if (value != null && value !== '') return String(value);
  return raw != null && raw !== '' ? `missing (file: ${raw})` : 'missing';
}

// The file's outcome of a lead, in terms of the positive class.
export function outcomeText(label, target, positive) {
  if (label == null || label < 0) return null;
  if (!target || positive == null) return label === 1 ? 'positive' : 'negative';
  return label === 1 ? `${target} = ${positive} (positive class)` : `${target} ≠ ${positive} (negative class)`;
}

// A reason's sentence, its missing value said with what the file wrote.
export function reasonText(r, fields) {
  const text = r.text || `${r.column} = ${r.value ?? 'missing'}`;
  const raw = fields && fields[r.column];
  if (r.value == null && raw != null && raw !== '') return text.replace(`${r.column} = missing`, `${r.column} = ${missingLabel(null, raw)}`);
  return text;
}

// Steps of the waterfall: base → the largest contributions → the rest → raw → calibrated score.
export function waterfallSteps(lead) {
  const contribs = Array.isArray(lead.contributions) ? [...lead.contributions] : [];
  contribs.sort((a, b) => Math.abs(b.points) - Math.abs(a.points));
  const steps = [];
  let at = lead.base ?? 0;
  steps.push({ label: 'Base: the average lead', start: 0, end: at, kind: 'total' });
  for (const c of contribs.slice(0, TOP)) {
    steps.push({ label: `${c.column} = ${missingLabel(c.value, lead.fields && lead.fields[c.column])}`, start: at, end: at + c.points, kind: c.points >= 0 ? 'up' : 'down', points: c.points });
    at += c.points;
  }
  const rest = contribs.slice(TOP);
  if (rest.length) {
    const sum = rest.reduce((s, c) => s + c.points, 0);
    steps.push({ label: `${rest.length} more columns together`, start: at, end: at + sum, kind: sum >= 0 ? 'up' : 'down', points: sum });
    at += sum;
  }
  const raw = lead.raw ?? at;
  steps.push({ label: 'Raw forest probability', start: 0, end: raw, kind: 'total' });
  if (lead.score != null && Math.abs(lead.score - raw) > 1e-9) {
    steps.push({ label: 'Calibrated score', start: raw, end: lead.score, kind: 'calib', points: lead.score - raw });
  }
  steps.push({ label: 'Score', start: 0, end: lead.score, kind: 'final' });
  return steps;
}

export function Waterfall({ lead }) {
  const steps = waterfallSteps(lead);
  const color = { total: 'bg-slate-400', up: 'bg-emerald-500', down: 'bg-rose-500', calib: 'bg-violet-400', final: 'bg-indigo-600' };
  return (
    <figure aria-label="Waterfall of contributions from base to score" data-testid="waterfall">
      <div className="space-y-1">
        {steps.map((s, i) => {
          const lo = Math.max(0, Math.min(100, Math.min(s.start, s.end)));
          const hi = Math.max(0, Math.min(100, Math.max(s.start, s.end)));
          return (
            <div key={i} className="grid grid-cols-[minmax(0,14rem)_1fr_3.5rem] items-center gap-2 text-xs">
              <span className={`truncate ${s.kind === 'final' || s.kind === 'total' ? 'font-semibold' : ''}`} title={s.label}>
                {s.label}
              </span>
              <div className="relative h-4 rounded bg-slate-100">
                <div className={`absolute top-0 h-4 rounded ${color[s.kind]}`} style={{ left: `${lo}%`, width: `${Math.max(0.5, hi - lo)}%` }} />
              </div>
              <span className="text-right tabular-nums">{s.kind === 'total' || s.kind === 'final' ? fmtScore(s.end) : fmtPts(s.points)}</span>
            </div>
          );
        })}
      </div>
      <figcaption className="mt-2 text-xs text-slate-500">Points on a 0–100 scale. Green raises the score, red lowers it.</figcaption>
    </figure>
  );
}

export default function LeadDrawer({ runId, row, onClose, target, positive }) {
  const [lead, setLead] = useState(null);
  const [error, setError] = useState(null);
  const closeRef = useRef(null);
  const panelRef = useRef(null);

  useEffect(() => {
    const ctl = new AbortController();
    setLead(null);
    setError(null);
    api.lead(runId, row, ctl.signal).then(setLead, (e) => e.name !== 'AbortError' && setError(e));
    return () => ctl.abort();
  }, [runId, row]);

  useEffect(() => {
    const prev = document.activeElement;
    if (closeRef.current) closeRef.current.focus();
    const onKey = (e) => {
      if (e.key === 'Escape') onClose();
      if (e.key === 'Tab' && panelRef.current) {
        // keep the focus inside the drawer
        const f = panelRef.current.querySelectorAll('button, [href], input, select, summary, [tabindex]:not([tabindex="-1"])');
        if (!f.length) return;
        const first = f[0];
        const last = f[f.length - 1];
        if (e.shiftKey && (document.activeElement === first || !panelRef.current.contains(document.activeElement))) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && (document.activeElement === last || !panelRef.current.contains(document.activeElement))) {
          e.preventDefault();
          first.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      if (prev && prev.focus) prev.focus();
    };
  }, [onClose]);

  const insight = lead && lead.insight;
  // the columns the model read as missing (their contribution has no value)
  const readMissing = new Set(lead && Array.isArray(lead.contributions) ? lead.contributions.filter((c) => c.value == null).map((c) => c.column) : []);
  return (
    <div className="fixed inset-0 z-40 flex justify-end">
      <div className="absolute inset-0 bg-slate-900/30" onClick={onClose} aria-hidden="true" />
      <aside
        ref={panelRef}
        role="dialog"
        aria-modal="true"
        aria-labelledby="lead-title"
        className="relative z-50 flex h-full w-full max-w-2xl flex-col overflow-hidden bg-white shadow-2xl"
      >
        <header className="flex items-start justify-between gap-3 border-b border-slate-200 p-4">
          <div className="min-w-0">
            <h2 id="lead-title" className="truncate text-lg font-semibold" title={lead ? String(lead.id ?? lead.row) : undefined}>
              Lead {lead ? lead.id ?? `row ${lead.row}` : `row ${row}`}
            </h2>
            {lead && (
              <p className="mt-1 flex flex-wrap items-center gap-2 text-sm text-slate-700">
                <span className="text-2xl font-semibold tabular-nums text-slate-900">{fmtScore(lead.score)}</span>
                <span>/ 100</span>
                <TierBadge tier={lead.tier} />
                <span>rank {fmtInt(lead.rank)}</span>
                <span>· row {fmtInt(lead.row)}</span>
                {outcomeText(lead.label, target, positive) && <span data-testid="outcome">· outcome in file: {outcomeText(lead.label, target, positive)}</span>}
              </p>
            )}
          </div>
          <button ref={closeRef} type="button" className={btnSecondary} onClick={onClose} aria-label="Close lead details">
            ✕ Close
          </button>
        </header>
        <div className="flex-1 space-y-5 overflow-y-auto p-4">
          <ErrorBox error={error} title="Could not load the lead" />
          {!lead && !error && <Spinner label="Loading lead" />}
          {lead && (
            <>
              <section aria-label="Insight" className="rounded-lg border border-indigo-200 bg-indigo-50 p-3">
                <h3 className="text-sm font-semibold text-indigo-900">Why, and what next</h3>
                {insight ? (
                  <>
                    <p className="mt-1 text-sm text-slate-800">{insight.why}</p>
                    <p className="mt-1 text-sm font-medium text-indigo-900">Next action: {insight.next_action}</p>
                    <p className="mt-1 text-xs text-slate-500">Written by {insight.provider || 'unknown provider'}</p>
                  </>
                ) : (
                  <>
                    {lead.explanation && <p className="mt-1 text-sm text-slate-800">{lead.explanation}</p>}
                    {lead.next_action && <p className="mt-1 text-sm font-medium text-indigo-900">Next action: {lead.next_action}</p>}
                    <p className="mt-1 text-xs text-slate-500">From the lead's own reasons (no written insight for this lead yet).</p>
                  </>
                )}
              </section>

              <section aria-label="Waterfall">
                <h3 className="mb-2 text-sm font-semibold">From the base value to the score</h3>
                {Array.isArray(lead.contributions) && lead.contributions.length ? (
                  <Waterfall lead={lead} />
                ) : (
                  <p className="text-sm text-slate-600">This lead has no explanation yet.</p>
                )}
              </section>

              {lead.reasons && (
                <section aria-label="Reasons" className="grid gap-3 sm:grid-cols-2">
                  <div>
                    <h3 className="text-sm font-semibold text-emerald-800">Raise the score</h3>
                    <ul className="mt-1 list-disc space-y-0.5 pl-5 text-sm">
                      {(lead.reasons.for || []).map((r, i) => (
                        <li key={i}>{reasonText(r, lead.fields)}</li>
                      ))}
                    </ul>
                  </div>
                  <div>
                    <h3 className="text-sm font-semibold text-rose-800">Lower the score</h3>
                    <ul className="mt-1 list-disc space-y-0.5 pl-5 text-sm">
                      {(lead.reasons.against || []).map((r, i) => (
                        <li key={i}>{reasonText(r, lead.fields)}</li>
                      ))}
                    </ul>
                  </div>
                </section>
              )}

              <section aria-label="Fields">
                <h3 className="mb-1 text-sm font-semibold">Every field</h3>
                <dl className="grid grid-cols-[minmax(0,1fr)_minmax(0,1fr)] gap-x-4 text-sm">
                  {Object.entries(lead.fields || {}).map(([k, v]) => (
                    <div key={k} className="contents">
                      <dt className="border-t border-slate-100 py-1 text-slate-600">{k}</dt>
                      <dd className="break-words border-t border-slate-100 py-1">
                        {displayValue(v)}
                        {readMissing.has(k) && v != null && v !== '' ? <span className="text-slate-500"> (read as missing)</span> : null}
                      </dd>
                    </div>
                  ))}
                </dl>
              </section>
            </>
          )}
        </div>
      </aside>
    </div>
  );
}
