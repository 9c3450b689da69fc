import { useEffect, useState } from 'react';

// Hash routes: #/upload, #/dashboard/ID, #/chat/ID, #/history (the server's
// root paths /upload and /chat belong to the old system's API). The
// dashboard keeps its table state and the open lead after a "?":
// #/dashboard/ID?tier=High&q=x&sort=score&order=desc&offset=25&limit=50&lead=17
export function parseHash(hash) {
  const raw = (hash || '').replace(/^#\/?/, '');
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const params = Object.fromEntries(new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1)).entries());
  const parts = path.split('/').filter(Boolean);
  const page = parts[0] || 'upload';
  const runId = parts[1] && /^\d+$/.test(parts[1]) ? Number(parts[1]) : null;
  return { page, runId, params };
}

export function buildHash(page, runId, params = {}) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') p.set(k, String(v));
  const qs = p.toString();
  return `#/${page}${runId ? `/${runId}` : ''}${qs ? `?${qs}` : ''}`;
}

// Merge updates (null removes a key) into the current hash's parameters.
// push: a new history entry (Back undoes it, e.g. an opened lead); else the
// current entry is replaced (sort, filter and page: no Back step each).
export function setHashParams(updates, { push = false } = {}) {
  const cur = parseHash(window.location.hash);
  const params = { ...cur.params };
  for (const [k, v] of Object.entries(updates)) {
    if (v == null || v === '') delete params[k];
    else params[k] = String(v);
  }
  const next = buildHash(cur.page, cur.runId, params);
  if (next === window.location.hash) return;
  if (push) window.location.hash = next;
  else window.history.replaceState(window.history.state, '', next);
}

export function useHashRoute() {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function go(page, runId) {
  window.location.hash = runId ? `#/${page}/${runId}` : `#/${page}`;
}
