import { lazy, startTransition, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../lib/api.js';
import { aucText, aucWords, driftColumns, fmtInt, fmtPct, keptLeakyOf, positiveLabel } from '../lib/format.js';
import { parseHash, setHashParams } from '../lib/hash.js';
import LeadsTable from '../components/LeadsTable.jsx';
import LeadDrawer from '../components/LeadDrawer.jsx';
import { EmptyState, Spinner, StatCard } from '../components/ui.jsx';
import { Stages } from './UploadPage.jsx';

const Charts = lazy(() => import('../components/Charts.jsx'));

// The open lead is in the hash (#/dashboard/ID?lead=ROW): a link or a
// reload opens it again, and Back closes it.
function leadFromHash() {
  const v = parseHash(window.location.hash).params.lead;
  return v && /^\d+$/.test(v) ? Number(v) : null;
}

export default function DashboardPage({ run, model }) {
  const [open, setOpenState] = useState(leadFromHash);
  const pushed = useRef(false);
  useEffect(() => {
    const on = () => {
      const row = leadFromHash();
      if (row == null) pushed.current = false;
      setOpenState(row);
    };
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const openLead = useCallback((row) => {
    if (leadFromHash() === row) return;
    const replace = leadFromHash() != null; // another lead: the same Back step
    if (!replace) pushed.current = true;
    setOpenState(row);
    setHashParams({ lead: row }, { push: !replace });
  }, []);
  const close = useCallback(() => {
    if (pushed.current && leadFromHash() != null) {
      pushed.current = false;
      window.history.back(); // the hashchange closes the drawer
      return;
    }
    setOpenState(null);
    setHashParams({ lead: null });
  }, []);
  // The charts (recharts renders synchronously, ~0.5 s on a loaded machine)
  // come after the first page of leads is on screen: the table is usable first.
  const [charts, setCharts] = useState(false);
  const showCharts = useCallback(() => startTransition(() => setCharts(true)), []);
  useEffect(() => {
    const t = setTimeout(showCharts, 1500);
    return () => clearTimeout(t);
  }, [showCharts]);

  if (!run) return null;
  if (run.status !== 'done') {
    return (
      <div className="mx-auto max-w-3xl space-y-3">
        <h1 className="text-xl font-semibold">Run #{run.run_id}</h1>
        {run.status === 'failed' ? (
          <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-3 text-red-800">
            This run failed: {run.error || 'unknown error'}
          </div>
        ) : (
          <Stages run={run} />
        )}
      </div>
    );
  }

  const s = run.summary || {};
  const tiers = s.tiers || {};
  const oob = model && model.metrics && model.metrics.auc != null ? model.metrics.auc : null;
  const fileAuc = run.metrics && run.metrics.auc != null ? run.metrics.auc : null;
  const auc = fileAuc != null ? fileAuc : oob;
  const leaky = keptLeakyOf(run, model);
  const positive = positiveLabel(run);
  const { drift, watch } = driftColumns(run.drift);
  const idColumn = (run.display_columns || [])[0] && run.top_leads && run.top_leads[0] && run.top_leads[0].display
    ? (run.display_columns || []).find((c) => run.top_leads[0].display[c] === run.top_leads[0].id)
    : null;

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h1 className="text-xl font-semibold">Dashboard</h1>
        <p className="text-sm text-slate-600" data-testid="positive">
          Positive class <span className="font-medium text-slate-900">{positive}</span>
          <span className="text-slate-500"> (the outcome scored as “converted”)</span>
          {run.cached ? ' · answered from the cache' : ''}
          {run.took_ms != null ? ` · scored in ${(run.took_ms / 1000).toFixed(1)} s` : ''}
        </p>
      </div>

      {leaky && (
        <div role="alert" className="rounded-lg border border-red-300 bg-red-50 p-3 text-sm text-red-900" data-testid="leaky-alert">
          <span className="font-semibold">Leaky columns kept: </span>
          {leaky.length ? <strong>{leaky.join(', ')}</strong> : 'the columns the leakage scan flagged'}
          {leaky.length === 1 ? ' was' : ' were'} flagged as probably filled in after the outcome, and this model still learned from{' '}
          {leaky.length === 1 ? 'it' : 'them'}. Its quality below is likely overstated, and new leads without{' '}
          {leaky.length === 1 ? 'that value' : 'those values'} will score worse than it suggests. Score again without them from Upload.
        </div>
      )}

      {run.drift && run.drift.status && run.drift.status !== 'ok' && (
        <div role="alert" className="rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900" data-testid="drift-alert">
          <span className="font-semibold">Drift {run.drift.status === 'drift' ? 'detected' : 'to watch'}: </span>
          {drift.length > 0 ? (
            <>
              these columns look different from the data the model learned from —{' '}
              {drift.map((c, i) => (
                <span key={c.name}>
                  {i ? ', ' : ''}
                  <strong>{c.name}</strong> (PSI {c.psi != null ? c.psi.toFixed(2) : '—'}
                  {c.unseen_share ? `, ${fmtPct(c.unseen_share, 0)} unseen` : ''})
                </span>
              ))}
              . Scores for these leads are less certain.
            </>
          ) : (
            <>to watch: {watch.map((c) => `${c.name} (${c.status})`).join(', ')}.</>
          )}
          {run.drift.low_confidence ? ' Few rows: the check is low-confidence.' : ''}
        </div>
      )}

      <div className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-5" data-testid="stats">
        <StatCard label="Total leads" value={<span data-testid="stat-total">{fmtInt(s.total)}</span>} hint={run.filename} />
        <StatCard
          label="Expected conversions"
          value={fmtInt(s.expected_conversions)}
          hint={s.total ? `${fmtPct(s.expected_conversions / s.total)} of all leads` : null}
        />
        <StatCard
          label="Conversion rate"
          value={s.labelled ? fmtPct(s.conversion_rate) : '—'}
          hint={s.labelled ? `of ${fmtInt(s.labelled)} leads with a known outcome` : 'no known outcomes in this file'}
        />
        <StatCard
          label="High tier"
          accent="text-emerald-700"
          value={<span data-testid="stat-high">{fmtInt(tiers.High)}</span>}
          hint={
            <span data-testid="stat-tiers">
              Medium {fmtInt(tiers.Medium)} · Low {fmtInt(tiers.Low)}
            </span>
          }
        />
        <StatCard
          label="Model quality"
          value={<span data-testid="stat-quality">{auc != null ? aucWords(auc) : '—'}</span>}
          hint={
            <>
              {leaky ? (
                <span className="mb-1 block rounded bg-red-100 px-1.5 py-0.5 text-xs font-semibold text-red-800" data-testid="quality-leaky" title={`Leaky columns kept: ${leaky.join(', ')}`}>
                  ⚠ leaky columns kept{leaky.length ? `: ${leaky.join(', ')}` : ''} — likely overstated
                </span>
              ) : null}
              {auc != null ? (
                <span data-testid="auc-text">
                  {aucText(fileAuc, oob)}: ranks a converter above a non-converter {fmtPct(auc, 0)} of the time
                </span>
              ) : (
                'not measured: this file has no known outcomes'
              )}
            </>
          }
        />
      </div>

      <Suspense fallback={<Spinner label="Loading charts" />}>
        {charts ? <Charts run={run} /> : <Spinner label="Loading charts" />}
      </Suspense>

      {s.total ? (
        <LeadsTable
          key={run.run_id}
          runId={run.run_id}
          displayColumns={run.display_columns || []}
          idColumn={idColumn}
          onOpen={(l) => openLead(l.row)}
          onLoaded={showCharts}
          exportHref={api.exportUrl(run.run_id)}
        />
      ) : (
        <EmptyState title="This run has no leads" />
      )}

      {open != null && <LeadDrawer runId={run.run_id} row={open} onClose={close} target={run.target} positive={run.positive} />}
    </div>
  );
}
