const nf = new Intl.NumberFormat('en-US');

export const fmtInt = (n) => (n == null || Number.isNaN(n) ? '—' : nf.format(Math.round(n)));
export const fmtPct = (x, digits = 1) => (x == null || Number.isNaN(x) ? '—' : `${(x * 100).toFixed(digits)} %`);
export const fmtScore = (s) => (s == null ? '—' : Number(s).toFixed(1));
export const fmtPts = (p) => (p == null ? '' : `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(1)}`);

export function fmtDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

// The model's out-of-bag AUC in words.
export function aucWords(auc) {
  if (auc == null) return 'unknown';
  if (auc >= 0.9) return 'excellent';
  if (auc >= 0.8) return 'good';
  if (auc >= 0.7) return 'fair';
  if (auc >= 0.6) return 'weak';
  return 'poor — barely better than chance';
}

export const TIERS = ['High', 'Medium', 'Low'];

export const tierClasses = {
  High: 'bg-emerald-100 text-emerald-800 ring-emerald-600/30',
  Medium: 'bg-amber-100 text-amber-900 ring-amber-600/30',
  Low: 'bg-slate-100 text-slate-700 ring-slate-500/30',
};

export const tierColors = { High: '#059669', Medium: '#d97706', Low: '#64748b' };

export function displayValue(v) {
  if (v == null || v === '') return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? nf.format(v) : String(Math.round(v * 1000) / 1000);
  return String(v);
}

// Suggested chat questions, built from the run's own columns.
export function suggestedQuestions(run) {
  if (!run) return [];
  const cols = [
    ...(run.display_columns || []),
    ...((Array.isArray(run.importance) ? run.importance : []).map((i) => i.column)),
  ];
  const uniq = [...new Set(cols)];
  const out = [];
  const source = uniq.find((c) => /source/i.test(c));
  if (source) out.push(`Which ${source.toLowerCase() === 'lead source' ? 'lead source' : source} converts best?`);
  const top = Array.isArray(run.importance) && run.importance[0] ? run.importance[0].column : null;
  if (top) out.push(`Why does ${top} matter so much?`);
  out.push('Which High leads should I call first, and why?');
  const second = Array.isArray(run.importance) ? run.importance.find((i) => i.column !== top && i.column !== source) : null;
  if (second) out.push(`How does ${second.column} change the conversion rate?`);
  if (run.drift && run.drift.status && run.drift.status !== 'ok') out.push('Which columns drifted, and does it matter?');
  else out.push('How good is the model, in plain words?');
  return out.slice(0, 5);
}

// Drifting columns of a run's drift object.
export function driftColumns(drift) {
  if (!drift || !drift.columns) return { drift: [], watch: [] };
  const d = [];
  const w = [];
  for (const [name, c] of Object.entries(drift.columns)) {
    if (c.status === 'drift') d.push({ name, ...c });
    else if (c.status === 'watch' || c.status === 'missing') w.push({ name, ...c });
  }
  d.sort((a, b) => (b.psi || 0) - (a.psi || 0));
  return { drift: d, watch: w };
}

// Cumulative gain (share of all conversions found in the top k deciles) from lift by decile.
export function cumulativeGain(lift) {
  if (!Array.isArray(lift)) return [];
  let acc = 0;
  return lift.map((l, i) => {
    acc += l / lift.length;
    return { decile: i + 1, lift: l, gain: Math.min(1, acc), random: (i + 1) / lift.length };
  });
}
