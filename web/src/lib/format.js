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

// "1 lead", "2 leads"
export const plural = (n, word, many = `${word}s`) => (Math.round(n) === 1 ? word : many);

// The positive class of a run or model in words: "Converted = 0".
export function positiveLabel(x) {
  if (!x || !x.target) return null;
  return x.positive != null && x.positive !== '' ? `${x.target} = ${x.positive}` : x.target;
}

// The names of the flagged leaky columns a run's model kept: the run's
// kept_leaky, else the model's; null when it kept none.
export function keptLeakyOf(run, model) {
  if (run && Array.isArray(run.kept_leaky)) return run.kept_leaky.length ? run.kept_leaky : null;
  if (model && Array.isArray(model.kept_leaky)) {
    const names = model.kept_leaky.map((k) => (typeof k === 'string' ? k : k.column)).filter(Boolean);
    return names.length ? names : null;
  }
  // a model stored before kept_leaky: trained with include_leaky, names unknown
  if (model && (model.include_leaky || (model.options && model.options.include_leaky))) return [];
  return null;
}

// Which AUC is shown, in the same words on the dashboard and in History:
// measured on the scored file's known outcomes, or out of bag (the model's).
export function aucText(fileAuc, oobAuc) {
  if (fileAuc != null) {
    const oob = oobAuc != null && Math.abs(oobAuc - fileAuc) >= 0.0005 ? ` (out-of-bag ${oobAuc.toFixed(3)})` : '';
    return `AUC ${fileAuc.toFixed(3)} on this file's known outcomes${oob}`;
  }
  if (oobAuc != null) return `out-of-bag AUC ${oobAuc.toFixed(3)}`;
  return 'AUC not measured';
}
