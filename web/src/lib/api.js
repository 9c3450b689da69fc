// The JSON API of `leadscore serve` (README: routes table). Same origin.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorFrom(res) {
  let code = 'HTTP_' + res.status;
  let message = `${res.status} ${res.statusText || 'error'}`;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    } else if (body && typeof body.detail === 'string') {
      message = body.detail;
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, code, message);
}

export async function request(path, { method = 'GET', body, signal, headers } = {}) {
  const init = { method, signal, headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached. Is `leadscore serve` running?');
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  return res.json();
}

export const api = {
  runs: (offset = 0, limit = 50) => request(`/api/runs?offset=${offset}&limit=${limit}`),
  run: (id, signal) => request(`/api/runs/${id}`, { signal }),
  deleteRun: (id) => request(`/api/runs/${id}`, { method: 'DELETE' }),
  model: (id, signal) => request(`/api/models/${id}`, { signal }),
  createRun: (body) => request('/api/runs', { method: 'POST', body }),
  leads: (id, params, signal) => {
    const url = `/api/runs/${id}/leads?${leadsQuery(params)}`;
    const early = prefetched.get(url);
    if (early) {
      prefetched.delete(url);
      return early;
    }
    return request(url, { signal });
  },
  lead: (id, row, signal) => request(`/api/runs/${id}/leads/${row}`, { signal }),
  chatHistory: (id, signal) => request(`/api/runs/${id}/chat`, { signal }),
  exportUrl: (id) => `/api/runs/${id}/export.csv`,
};

// A page of leads asked for before the table mounts (the upload page asks for
// the first page as soon as the run is done); used once by api.leads.
const prefetched = new Map();
export const FIRST_PAGE = { sort: 'rank', order: 'asc', offset: 0, limit: 25 };
export function prefetchLeads(id, params = FIRST_PAGE) {
  const url = `/api/runs/${id}/leads?${leadsQuery(params)}`;
  const p = request(url);
  p.catch(() => prefetched.delete(url));
  prefetched.set(url, p);
  setTimeout(() => prefetched.delete(url), 10000);
}

// The query string of GET /api/runs/{id}/leads: tier, q, sort, order, offset, limit.
export function leadsQuery({ tier, q, sort, order, offset = 0, limit = 25 } = {}) {
  const p = new URLSearchParams();
  if (tier && tier !== 'All') p.set('tier', tier);
  if (q && q.trim()) p.set('q', q.trim());
  if (sort) p.set('sort', sort);
  if (order) p.set('order', order);
  p.set('offset', String(offset));
  p.set('limit', String(limit));
  return p.toString();
}

// POST /api/datasets as multipart with upload progress (XHR: fetch has none).
// onProgress(loaded, total). Resolves with the data set answer.
export function uploadDataset(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/datasets');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (onProgress) onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) {
        if (onProgress) onProgress(file.size, file.size);
        resolve(body);
      } else {
        const e = body && body.error;
        reject(new ApiError(xhr.status, (e && e.code) || 'HTTP_' + xhr.status, (e && e.message) || `Upload failed (${xhr.status})`));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'The upload failed: the server cannot be reached.'));
    xhr.onabort = () => reject(new ApiError(0, 'ABORTED', 'The upload was cancelled.'));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

// The body of POST /api/runs from the upload page's choices.
// flags: the data set's leakage flags; keep: {column: boolean} (checked = keep).
export function runBody({ dataset, target, positive, flags = [], keep = {} }) {
  const body = { dataset_id: dataset.dataset_id, wait: false };
  const detected = dataset.target || null;
  if (target && (!detected || target !== detected.name)) body.target = target;
  if (positive && (!detected || target !== detected.name || positive !== detected.positive)) body.positive = positive;
  const exclude = [];
  let keepLeaky = false;
  for (const f of flags) {
    const kept = keep[f.column] ?? f.level !== 'exclude';
    if (f.level === 'exclude' && kept) keepLeaky = true;
    if (!kept) exclude.push(f.column);
  }
  if (keepLeaky) {
    // include_leaky keeps every "exclude" column; the unkept ones go back by name
    body.include_leaky = true;
    if (exclude.length) body.exclude = exclude;
  } else {
    const extra = flags.filter((f) => f.level !== 'exclude' && exclude.includes(f.column)).map((f) => f.column);
    if (extra.length) body.exclude = extra;
  }
  return body;
}
