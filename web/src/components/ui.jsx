import { tierClasses, fmtScore } from '../lib/format.js';

export function TierBadge({ tier }) {
  return (
    <span
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${tierClasses[tier] || tierClasses.Low}`}
    >
      {tier}
    </span>
  );
}

export function ScoreBar({ score, tier, compact = false }) {
  const w = Math.max(0, Math.min(100, Number(score) || 0));
  const color = tier === 'High' ? 'bg-emerald-500' : tier === 'Medium' ? 'bg-amber-500' : 'bg-slate-400';
  return (
    <div className={`flex items-center ${compact ? 'gap-1.5' : 'gap-2'}`} title={`score ${fmtScore(score)} of 100`}>
      <div className={`h-2 ${compact ? 'w-12' : 'w-20'} shrink-0 overflow-hidden rounded-full bg-slate-200`} aria-hidden="true">
        <div className={`h-full ${color}`} style={{ width: `${w}%` }} />
      </div>
      <span className="tabular-nums text-sm font-medium">{fmtScore(score)}</span>
    </div>
  );
}

export function ProgressBar({ value, label }) {
  const pct = Math.round(Math.max(0, Math.min(1, value || 0)) * 100);
  return (
    <div>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        className="h-2.5 w-full overflow-hidden rounded-full bg-slate-200"
      >
        <div className="h-full rounded-full bg-indigo-600 transition-[width] duration-200" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

export function StatCard({ label, value, hint, accent }) {
  return (
    <div className="rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
      <div className="min-h-8 text-xs leading-4 font-medium uppercase tracking-wide text-slate-500">{label}</div>
      <div className={`text-2xl font-semibold tabular-nums ${accent || 'text-slate-900'}`}>{value}</div>
      {hint ? <div className="mt-1 text-sm text-slate-600">{hint}</div> : null}
    </div>
  );
}

export function Card({ title, children, className = '', actions }) {
  return (
    <section className={`rounded-xl border border-slate-200 bg-white p-4 shadow-sm ${className}`} aria-label={title}>
      {title ? (
        <div className="mb-3 flex items-center justify-between gap-2">
          <h2 className="text-sm font-semibold text-slate-800">{title}</h2>
          {actions}
        </div>
      ) : null}
      {children}
    </section>
  );
}

export function EmptyState({ title, children }) {
  return (
    <div className="rounded-xl border border-dashed border-slate-300 bg-white/60 p-6 text-center text-slate-600">
      <p className="font-medium text-slate-800">{title}</p>
      {children ? <div className="mt-1 text-sm">{children}</div> : null}
    </div>
  );
}

export function ErrorBox({ error, title = 'Something went wrong', onRetry }) {
  if (!error) return null;
  const msg = typeof error === 'string' ? error : error.message || String(error);
  return (
    <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-3 text-sm text-red-800">
      <span className="font-semibold">{title}: </span>
      {msg}
      {onRetry ? (
        <button type="button" onClick={onRetry} className="ml-3 rounded border border-red-300 bg-white px-2 py-0.5 text-red-800 hover:bg-red-100">
          Retry
        </button>
      ) : null}
    </div>
  );
}

export function Spinner({ label = 'Loading' }) {
  return (
    <span className="inline-flex items-center gap-2 text-sm text-slate-600" role="status">
      <span className="h-4 w-4 animate-spin rounded-full border-2 border-slate-300 border-t-indigo-600" aria-hidden="true" />
      {label}
    </span>
  );
}

export const btn =
  'inline-flex items-center justify-center gap-1.5 rounded-lg px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:cursor-not-allowed disabled:opacity-50';
export const btnPrimary = `${btn} bg-indigo-600 text-white hover:bg-indigo-700`;
export const btnSecondary = `${btn} border border-slate-300 bg-white text-slate-800 hover:bg-slate-50`;
export const btnDanger = `${btn} bg-red-600 text-white hover:bg-red-700`;
export const inputCls =
  'rounded-lg border border-slate-300 bg-white px-2.5 py-1.5 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30';
