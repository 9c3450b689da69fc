import { useEffect, useState } from 'react';

// Hash routes: #/upload, #/dashboard/ID, #/chat/ID, #/history (the server's
// root paths /upload and /chat belong to the old system's API).
export function parseHash(hash) {
  const parts = (hash || '').replace(/^#\/?/, '').split('/').filter(Boolean);
  const page = parts[0] || 'upload';
  const runId = parts[1] && /^\d+$/.test(parts[1]) ? Number(parts[1]) : null;
  return { page, runId };
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
