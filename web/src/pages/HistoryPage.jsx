import { useCallback, useEffect, useState } from 'react';
import { api } from '../lib/api.js';
import { aucText, aucWords, fmtDate, fmtInt, keptLeakyOf, positiveLabel } from '../lib/format.js';
import { btnDanger, btnPrimary, btnSecondary, EmptyState, ErrorBox, Spinner } from '../components/ui.jsx';

const PAGE = 50;

export default function HistoryPage({ currentRunId, onOpen, onDeleted }) {
  const [list, setList] = useState(null);
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState(null);
  const [confirm, setConfirm] = useState(null);
  const [deleting, setDeleting] = useState(false);

  const load = useCallback(() => {
    setError(null);
    api.runs(offset, PAGE).then(setList, setError);
  }, [offset]);
  useEffect(load, [load]);

  async function remove(id) {
    setDeleting(true);
    try {
      await api.deleteRun(id);
      setConfirm(null);
      if (onDeleted) onDeleted(id);
      load();
    } catch (e) {
      setError(e);
    } finally {
      setDeleting(false);
    }
  }

  const runs = list ? list.runs : [];
  return (
    <div className="space-y-4">
      <h1 className="text-xl font-semibold">History</h1>
      <ErrorBox error={error} title="Could not load the history" onRetry={load} />
      {!list && !error && <Spinner label="Loading runs" />}
      {list && runs.length === 0 && <EmptyState title="No runs yet">Upload a CSV to score your first leads.</EmptyState>}
      {runs.length > 0 && (
        <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm">
          <table className="w-full min-w-[520px] text-sm" aria-label="Past runs">
            <thead className="bg-slate-50 text-left text-xs uppercase text-slate-600">
              <tr>
                <th scope="col" className="px-2 py-2">Run</th>
                <th scope="col" className="px-2 py-2">File</th>
                <th scope="col" className="px-2 py-2">
                  Leads <span className="block font-normal normal-case">High / Medium / Low</span>
                </th>
                <th scope="col" className="px-2 py-2">Model quality</th>
                <th scope="col" className="px-2 py-2">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.run_id} className={`border-t border-slate-100 ${r.run_id === currentRunId ? 'bg-indigo-50/60' : ''}`} data-run={r.run_id}>
                  <td className="px-2 py-2 tabular-nums">#{r.run_id}</td>
                  <td className="max-w-[16rem] px-2 py-2">
                    <div className="truncate font-medium" title={r.filename}>
                      {r.filename}
                    </div>
                    <div className="text-xs text-slate-600">{fmtDate(r.created)}</div>
                    {r.target ? (
                      <div className="truncate text-xs text-slate-700" title={`positive class: ${positiveLabel(r)}`}>
                        positive: <span data-testid="run-positive">{positiveLabel(r)}</span>
                      </div>
                    ) : null}
                  </td>
                  <td className="whitespace-nowrap px-2 py-2 tabular-nums">
                    <div>{r.status === 'done' ? fmtInt(r.total) : r.status}</div>
                    {r.tiers ? (
                      <div className="text-xs">
                        <span className="text-emerald-700">{fmtInt(r.tiers.High)}</span> / <span className="text-amber-700">{fmtInt(r.tiers.Medium)}</span> /{' '}
                        <span className="text-slate-600">{fmtInt(r.tiers.Low)}</span>
                      </div>
                    ) : null}
                  </td>
                  <td className="px-2 py-2">
                    {r.auc != null ? (
                      <>
                        <div className="font-medium">{aucWords(r.auc)}</div>
                        <div className="whitespace-nowrap text-xs text-slate-600" title={aucText(r.auc, null)}>
                          AUC {r.auc.toFixed(3)} on this file
                        </div>
                      </>
                    ) : (
                      '—'
                    )}
                    {keptLeakyOf(r, null) ? (
                      <div className="mt-0.5 max-w-[12rem] text-xs font-semibold text-red-700" data-testid="run-leaky" title="This run's model kept columns the leakage scan flagged: its quality is likely overstated">
                        ⚠ leaky kept: {keptLeakyOf(r, null).join(', ')}
                      </div>
                    ) : null}
                  </td>
                  <td className="px-2 py-2">
                    {confirm === r.run_id ? (
                      <div className="flex flex-wrap items-center justify-end gap-2" role="group" aria-label={`Confirm deleting run ${r.run_id}`}>
                        <span className="text-xs text-red-800">Delete run #{r.run_id} and its leads?</span>
                        <button type="button" className={btnDanger} onClick={() => remove(r.run_id)} disabled={deleting} autoFocus>
                          Yes, delete
                        </button>
                        <button type="button" className={btnSecondary} onClick={() => setConfirm(null)}>
                          Cancel
                        </button>
                      </div>
                    ) : (
                      <div className="flex flex-wrap justify-end gap-2">
                        <button type="button" className={btnPrimary} onClick={() => onOpen(r.run_id)} aria-label={`Open run ${r.run_id}`}>
                          Open
                        </button>
                        <button type="button" className={btnSecondary} onClick={() => setConfirm(r.run_id)} aria-label={`Delete run ${r.run_id}`}>
                          Delete
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list && list.total > PAGE && (
        <div className="flex items-center gap-2 text-sm">
          <button type="button" className={btnSecondary} disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            ← Newer
          </button>
          <span>
            {fmtInt(offset + 1)}–{fmtInt(Math.min(offset + PAGE, list.total))} of {fmtInt(list.total)}
          </span>
          <button type="button" className={btnSecondary} disabled={offset + PAGE >= list.total} onClick={() => setOffset(offset + PAGE)}>
            Older →
          </button>
        </div>
      )}
    </div>
  );
}
