import { useEffect, useState } from 'react';
import { api } from './lib/api.js';
import { fmtDate, fmtInt, plural } from './lib/format.js';
import { go, useHashRoute } from './lib/hash.js';
import UploadPage from './pages/UploadPage.jsx';
import DashboardPage from './pages/DashboardPage.jsx';
import ChatPage from './pages/ChatPage.jsx';
import HistoryPage from './pages/HistoryPage.jsx';
import { btnPrimary, btnSecondary, EmptyState, ErrorBox, Spinner, TierBadge } from './components/ui.jsx';

const KEY = 'leadscore.run';

function storedRun() {
  try {
    const v = Number(window.localStorage.getItem(KEY));
    return v > 0 ? v : null;
  } catch {
    return null;
  }
}

// Runs already seen (the upload page hands over the finished run: no second fetch).
const runCache = new Map();

// The current run: fetched, polled while it is queued or running; its model
// (for the out-of-bag AUC) fetched beside it without holding the page back.
function useRun(runId) {
  const [state, setState] = useState({ run: null, model: null, error: null, loading: false });
  useEffect(() => {
    if (!runId) {
      setState({ run: null, model: null, error: null, loading: false });
      return undefined;
    }
    let alive = true;
    let timer = null;
    const ctl = new AbortController();
    const cached = runCache.get(runId) || null;
    setState((s) => ({ run: cached || (s.run && s.run.run_id === runId ? s.run : null), model: null, error: null, loading: !cached }));
    const fetchModel = (run) => {
      if (run.status !== 'done' || !run.model_id) return;
      api.model(run.model_id, ctl.signal).then(
        (model) => alive && setState((s) => (s.run && s.run.run_id === run.run_id ? { ...s, model } : s)),
        () => {},
      );
    };
    const tick = async () => {
      try {
        const run = await api.run(runId, ctl.signal);
        if (!alive) return;
        if (run.status === 'done') runCache.set(runId, run);
        setState((s) => ({ ...s, run, error: null, loading: false }));
        if (run.status === 'queued' || run.status === 'running') timer = setTimeout(tick, 500);
        else fetchModel(run);
      } catch (e) {
        if (!alive || e.name === 'AbortError') return;
        setState({ run: null, model: null, error: e, loading: false });
      }
    };
    if (cached) fetchModel(cached);
    else tick();
    return () => {
      alive = false;
      ctl.abort();
      clearTimeout(timer);
    };
  }, [runId]);
  return state;
}

const NAV = [
  { page: 'upload', label: 'Upload', icon: '⇪' },
  { page: 'dashboard', label: 'Dashboard', icon: '▦', needsRun: true },
  { page: 'chat', label: 'Chat', icon: '✎', needsRun: true },
  { page: 'history', label: 'History', icon: '☰' },
];

export default function App() {
  const route = useHashRoute();
  useEffect(() => {
    const t = setTimeout(() => import('./components/Charts.jsx').catch(() => {}), 300);
    return () => clearTimeout(t);
  }, []);
  const [runId, setRunId] = useState(() => route.runId || storedRun());

  useEffect(() => {
    if (route.runId && route.runId !== runId) setRunId(route.runId);
  }, [route.runId, runId]);
  useEffect(() => {
    try {
      if (runId) window.localStorage.setItem(KEY, String(runId));
      else window.localStorage.removeItem(KEY);
    } catch {
      /* private mode */
    }
  }, [runId]);

  const { run, model, error, loading } = useRun(runId);
  const page = NAV.some((n) => n.page === route.page) ? route.page : 'upload';

  const needRun = (content) => {
    if (!runId)
      return (
        <EmptyState title="No run selected">
          <p>Upload a CSV to score leads, or open a past run from History.</p>
          <div className="mt-3 flex justify-center gap-2">
            <a className={btnPrimary} href="#/upload">
              Upload a CSV
            </a>
          </div>
        </EmptyState>
      );
    if (error)
      return (
        <div className="space-y-3" data-testid="run-error">
          <ErrorBox error={error} title={error.status === 404 ? `Run #${runId} does not exist (it may have been deleted)` : `Run #${runId}`} />
          <div className="flex flex-wrap gap-2">
            <a className={btnPrimary} href="#/history">
              Open a run from History
            </a>
            <a className={btnSecondary} href="#/upload">
              Upload a CSV
            </a>
          </div>
        </div>
      );
    if (!run) return <Spinner label="Loading run" />;
    return content;
  };

  return (
    <div className="flex h-full flex-col md:flex-row">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:z-50 focus:m-2 focus:rounded focus:bg-white focus:p-2">
        Skip to content
      </a>
      <nav aria-label="Main" className="shrink-0 border-b border-slate-800 bg-slate-900 text-slate-200 md:w-44 md:border-b-0 md:border-r lg:w-52">
        <div className="flex items-center gap-2 px-4 py-3 md:py-5">
          <span className="grid h-8 w-8 place-items-center rounded-lg bg-indigo-500 font-bold text-white" aria-hidden="true">
            L
          </span>
          <span className="text-lg font-semibold text-white">LeadScore</span>
        </div>
        <ul className="flex gap-1 overflow-x-auto px-2 pb-2 md:flex-col md:px-3">
          {NAV.map((n) => {
            const href = n.needsRun && runId ? `#/${n.page}/${runId}` : `#/${n.page}`;
            const active = page === n.page;
            return (
              <li key={n.page}>
                <a
                  href={href}
                  aria-current={active ? 'page' : undefined}
                  className={`flex items-center gap-2 rounded-lg px-3 py-2 text-sm font-medium whitespace-nowrap focus-visible:outline-2 focus-visible:outline-indigo-400 ${
                    active ? 'bg-slate-700 text-white' : 'text-slate-300 hover:bg-slate-800 hover:text-white'
                  }`}
                >
                  <span aria-hidden="true" className="w-4 text-center">
                    {n.icon}
                  </span>
                  {n.label}
                </a>
              </li>
            );
          })}
        </ul>
      </nav>

      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex min-h-14 flex-wrap items-center gap-x-4 gap-y-1 border-b border-slate-200 bg-white px-4 py-2 md:px-6" aria-label="Current run">
          {run ? (
            <div className="flex min-w-0 flex-wrap items-center gap-x-3 gap-y-1 text-sm" data-testid="current-run">
              <span className="text-slate-500">Current run</span>
              <a href={`#/dashboard/${run.run_id}`} className="truncate font-semibold text-slate-900 hover:underline">
                #{run.run_id} · {run.filename}
              </a>
              <span className="text-slate-600">{fmtDate(run.created)}</span>
              {run.status === 'done' && run.summary ? (
                <>
                  <span className="tabular-nums text-slate-700">
                    {fmtInt(run.summary.total)} {plural(run.summary.total, 'lead')}
                  </span>
                  <span className="flex items-center gap-1">
                    <TierBadge tier="High" />
                    <span className="tabular-nums">{fmtInt(run.summary.tiers && run.summary.tiers.High)}</span>
                  </span>
                </>
              ) : (
                <span className="rounded bg-amber-100 px-2 py-0.5 text-xs text-amber-900">{run.status}</span>
              )}
            </div>
          ) : (
            <span className="text-sm text-slate-500">{loading ? 'Loading run…' : 'No run selected'}</span>
          )}
        </header>
        <main id="main" className="relative min-w-0 flex-1 overflow-y-auto p-4 md:p-6" tabIndex={-1}>
          {page === 'upload' && (
            <UploadPage
              onDone={(id, finished) => {
                if (finished && finished.status === 'done') runCache.set(id, finished);
                setRunId(id);
                go('dashboard', id);
              }}
            />
          )}
          {page === 'dashboard' && needRun(<DashboardPage run={run} model={model} />)}
          {page === 'chat' && needRun(<ChatPage run={run} />)}
          {page === 'history' && (
            <HistoryPage
              currentRunId={runId}
              onOpen={(id) => {
                setRunId(id);
                go('dashboard', id);
              }}
              onDeleted={(id) => {
                runCache.delete(id);
                if (id === runId) setRunId(null);
              }}
            />
          )}
        </main>
      </div>
    </div>
  );
}
