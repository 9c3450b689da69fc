// The dashboard's charts (recharts: loaded as its own chunk).
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  ComposedChart,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  Legend,
} from 'recharts';
import { cumulativeGain, fmtInt, tierColors, TIERS } from '../lib/format.js';
import { Card, EmptyState } from './ui.jsx';

const H = 220;
const axis = { fontSize: 11, fill: '#475569' };
const legendText = (v) => <span style={{ color: '#334155' }}>{v}</span>;

export default function Charts({ run }) {
  const summary = run.summary || {};
  const metrics = run.metrics || null;
  const hist = Array.isArray(summary.score_histogram) ? summary.score_histogram : null;
  const tiers = TIERS.map((t) => ({ tier: t, leads: (summary.tiers && summary.tiers[t]) || 0 }));
  const gain = metrics ? cumulativeGain(metrics.lift_by_decile) : [];
  const maxLift = Math.max(1, Math.ceil(Math.max(0, ...gain.map((g) => g.lift))));
  const calib = metrics && Array.isArray(metrics.calibration)
    ? metrics.calibration.map((c) => ({ decile: c.decile, predicted: +(c.predicted * 100).toFixed(1), observed: +(c.observed * 100).toFixed(1), rows: c.rows }))
    : [];
  const importance = (Array.isArray(run.importance) ? run.importance : [])
    .filter((i) => i.mean_abs_points > 0)
    .slice(0, 10)
    .map((i) => ({ column: i.column, points: +i.mean_abs_points.toFixed(2) }));

  return (
    <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
      <Card title="Score distribution">
        {hist && hist.length ? (
          <div style={{ height: H }} data-testid="chart-histogram">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={hist.map((b) => ({ ...b, mid: (b.from + b.to) / 2, label: `${b.from}–${b.to}` }))} barCategoryGap={1} margin={{ top: 5, right: 12, left: 0, bottom: 5 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis
                  type="number"
                  dataKey="mid"
                  domain={[0, 100]}
                  ticks={[0, 20, 40, 60, 80, 100]}
                  tick={axis}
                  height={32}
                  label={{ value: 'score (bins of 5 points)', fontSize: 10, position: 'insideBottom', offset: -2 }}
                />
                <YAxis tick={axis} width={44} />
                <Tooltip formatter={(v) => [fmtInt(v), 'leads']} labelFormatter={(l, p) => (p && p[0] ? `score ${p[0].payload.label}` : l)} />
                <Bar dataKey="leads" isAnimationActive={false}>
                  {hist.map((b, i) => (
                    <Cell key={i} fill={b.from >= 70 ? tierColors.High : b.from >= 30 ? tierColors.Medium : tierColors.Low} />
                  ))}
                </Bar>
              </BarChart>
            </ResponsiveContainer>
          </div>
        ) : null}
        {hist && hist.length ? (
          <ul className="mt-1 flex flex-wrap gap-x-3 gap-y-0.5 text-xs text-slate-600" aria-label="Tier colours" data-testid="tier-legend">
            {[
              ['High', '≥ 70'],
              ['Medium', '30–70'],
              ['Low', '< 30'],
            ].map(([t, range]) => (
              <li key={t} className="flex items-center gap-1">
                <span aria-hidden="true" className="inline-block h-2.5 w-2.5 rounded-sm" style={{ background: tierColors[t] }} />
                {t} {range}
              </li>
            ))}
          </ul>
        ) : (
          <EmptyState title="No score distribution">This server's run answer has no histogram.</EmptyState>
        )}
      </Card>

      <Card title="Leads per tier">
        <div style={{ height: H }} data-testid="chart-tiers">
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={tiers} margin={{ top: 5, right: 5, left: 0, bottom: 5 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="tier" tick={axis} />
              <YAxis tick={axis} width={44} />
              <Tooltip formatter={(v) => [fmtInt(v), 'leads']} />
              <Bar dataKey="leads" isAnimationActive={false}>
                {tiers.map((t) => (
                  <Cell key={t.tier} fill={tierColors[t.tier]} />
                ))}
              </Bar>
            </BarChart>
          </ResponsiveContainer>
        </div>
      </Card>

      <Card title="Cumulative gain and lift by decile">
        {gain.length ? (
          <div style={{ height: H }} data-testid="chart-gain">
            <ResponsiveContainer width="100%" height="100%">
              <ComposedChart data={gain.map((g) => ({ ...g, gain: +(g.gain * 100).toFixed(1), random: +(g.random * 100).toFixed(0), lift: +g.lift.toFixed(2) }))} margin={{ top: 5, right: 5, left: 0, bottom: 5 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="decile" tick={axis} />
                <YAxis yAxisId="g" tick={axis} width={36} domain={[0, 100]} unit="%" />
                <YAxis yAxisId="l" orientation="right" tick={axis} width={30} domain={[0, maxLift]} tickCount={maxLift + 1} allowDecimals={false} />
                <Tooltip />
                <Legend formatter={legendText} wrapperStyle={{ fontSize: 11 }} />
                <Bar yAxisId="l" dataKey="lift" name="lift (×)" fill="#a5b4fc" isAnimationActive={false} />
                <Line yAxisId="g" dataKey="gain" name="conversions found %" stroke="#4f46e5" strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} />
                <Line yAxisId="g" dataKey="random" name="random %" stroke="#94a3b8" strokeDasharray="4 4" dot={false} isAnimationActive={false} />
              </ComposedChart>
            </ResponsiveContainer>
          </div>
        ) : (
          <EmptyState title="No lift">The file has no known outcomes to measure against.</EmptyState>
        )}
      </Card>

      <Card title="Calibration: predicted vs observed">
        {calib.length ? (
          <div style={{ height: H }} data-testid="chart-calibration">
            <ResponsiveContainer width="100%" height="100%">
              <LineChart data={calib} margin={{ top: 5, right: 5, left: 0, bottom: 5 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="decile" tick={axis} label={{ value: 'decile (1 = highest scores)', fontSize: 10, position: 'insideBottom', offset: -2 }} height={32} />
                <YAxis tick={axis} width={36} domain={[0, 100]} unit="%" />
                <Tooltip formatter={(v, n) => [`${v} %`, n]} labelFormatter={(d) => `decile ${d}`} />
                <Legend formatter={legendText} wrapperStyle={{ fontSize: 11 }} verticalAlign="top" height={22} />
                <Line dataKey="predicted" name="predicted" stroke="#4f46e5" strokeWidth={2} isAnimationActive={false} />
                <Line dataKey="observed" name="observed" stroke="#059669" strokeWidth={0} dot={{ r: 4, fill: '#059669' }} activeDot={{ r: 5 }} isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </div>
        ) : (
          <EmptyState title="No calibration">The file has no known outcomes to compare with.</EmptyState>
        )}
      </Card>

      <Card title="Top factors (mean |points|)" className="md:col-span-2 xl:col-span-2">
        {importance.length ? (
          <div style={{ height: Math.max(H, importance.length * 26 + 20) }} data-testid="chart-importance">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={importance} layout="vertical" margin={{ top: 0, right: 16, left: 8, bottom: 0 }}>
                <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                <XAxis type="number" tick={axis} />
                <YAxis type="category" dataKey="column" tick={axis} width={230} interval={0} />
                <Tooltip formatter={(v) => [`${v} pts`, 'mean |contribution|']} />
                <Bar dataKey="points" fill="#6366f1" isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        ) : (
          <EmptyState title="No factors">This run has no importance figures.</EmptyState>
        )}
      </Card>
    </div>
  );
}
