import { useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../lib/api.js';
import { applyChatEvent, initialAnswer, readEventStream } from '../lib/sse.js';
import { suggestedQuestions } from '../lib/format.js';
import { btnPrimary, btnSecondary, EmptyState, ErrorBox, inputCls, Spinner } from '../components/ui.jsx';

// POST /api/runs/{id}/chat {message} → text/event-stream (meta, token, done, error).
export async function sendChat(runId, message, onState, signal) {
  let state = initialAnswer();
  onState(state);
  let res;
  try {
    res = await fetch(`/api/runs/${runId}/chat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify({ message }),
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    state = applyChatEvent(state, 'error', { code: 'NETWORK', message: 'The server cannot be reached.' });
    onState(state);
    return state;
  }
  const type = res.headers.get('content-type') || '';
  if (!res.ok || !type.includes('text/event-stream')) {
    let code = 'HTTP_' + res.status;
    let msg = `The chat answered ${res.status}.`;
    try {
      const body = await res.json();
      if (body && body.error) {
        code = body.error.code || code;
        msg = body.error.message || msg;
      }
    } catch {
      /* not JSON */
    }
    if (res.status === 404 && msg === 'no such route') msg = 'This server has no chat yet (it arrives with the chat issue).';
    state = applyChatEvent(state, 'error', { code, message: msg });
    onState(state);
    return state;
  }
  const on = (name) => (payload) => {
    state = applyChatEvent(state, name, payload);
    onState(state);
  };
  await readEventStream(res, { meta: on('meta'), token: on('token'), done: on('done'), error: on('error') });
  if (state.status === 'streaming') {
    state = applyChatEvent(state, 'error', { code: 'CUT', message: 'The answer stopped before it was complete.' });
    onState(state);
  }
  return state;
}

function Facts({ facts }) {
  if (!facts || !facts.length) return null;
  return (
    <details className="mt-2 text-xs text-slate-700" data-testid="facts">
      <summary className="cursor-pointer font-medium text-slate-600">Facts used ({facts.length})</summary>
      <ul className="mt-1 space-y-1">
        {facts.map((f, i) => (
          <li key={f.id ?? i} className="rounded border border-slate-200 bg-slate-50 p-2">
            <span className="font-semibold">{f.title || f.id}</span>
            {f.kind ? <span className="ml-1 text-slate-500">({f.kind})</span> : null}
            {f.text ? <p className="mt-0.5 whitespace-pre-wrap">{f.text}</p> : null}
          </li>
        ))}
      </ul>
    </details>
  );
}

function Message({ m }) {
  if (m.role === 'user') {
    return (
      <div className="flex justify-end">
        <div className="max-w-[80%] min-w-0 whitespace-pre-wrap break-words rounded-2xl rounded-br-sm bg-indigo-600 px-4 py-2 text-white [overflow-wrap:anywhere]" data-testid="user-message">
          {m.text}
        </div>
      </div>
    );
  }
  return (
    <div className="flex justify-start" data-testid="assistant-message">
      <div className="max-w-[85%] min-w-0 break-words rounded-2xl rounded-bl-sm border [overflow-wrap:anywhere] border-slate-200 bg-white px-4 py-2 shadow-sm">
        {m.text ? (
          <div className="whitespace-pre-wrap text-slate-900" data-testid="answer-text">
            {m.text}
          </div>
        ) : m.status === 'streaming' ? (
          <Spinner label="Thinking" />
        ) : null}
        {m.status === 'streaming' && m.text ? <span className="ml-0.5 animate-pulse text-indigo-600" aria-hidden="true">▍</span> : null}
        {m.error ? (
          <p role="alert" className="mt-1 text-sm text-red-700">
            {m.error.message}
          </p>
        ) : null}
        <Facts facts={m.facts} />
        {m.provider ? (
          <p className="mt-1 text-[11px] text-slate-500">
            {m.provider}
            {m.took_ms != null ? ` · ${(m.took_ms / 1000).toFixed(1)} s` : ''}
          </p>
        ) : null}
      </div>
    </div>
  );
}

export default function ChatPage({ run }) {
  const runId = run ? run.run_id : null;
  const [messages, setMessages] = useState([]);
  const [loadError, setLoadError] = useState(null);
  const [loading, setLoading] = useState(false);
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(false);
  const inputRef = useRef(null);
  const wasBusy = useRef(false);
  // the input is disabled while an answer streams; the focus comes back after
  useEffect(() => {
    if (wasBusy.current && !busy && inputRef.current) inputRef.current.focus();
    wasBusy.current = busy;
  }, [busy]);
  const ctlRef = useRef(null);
  const endRef = useRef(null);

  useEffect(() => {
    if (!runId) return undefined;
    const ctl = new AbortController();
    setMessages([]);
    setLoadError(null);
    setLoading(true);
    api
      .chatHistory(runId, ctl.signal)
      .then((h) => {
        setMessages((h && h.messages ? h.messages : []).map((m) => ({ ...m, status: 'done' })));
        setLoading(false);
      })
      .catch((e) => {
        if (e.name === 'AbortError') return;
        setLoading(false);
        if (!(e instanceof ApiError && e.status === 404)) setLoadError(e);
      });
    return () => {
      ctl.abort();
      if (ctlRef.current) ctlRef.current.abort();
    };
  }, [runId]);

  useEffect(() => {
    if (endRef.current && endRef.current.scrollIntoView) endRef.current.scrollIntoView({ block: 'end' });
  }, [messages]);

  if (!run) return null;
  if (run.status !== 'done') return <EmptyState title="This run is not finished yet">Chat opens when it is scored.</EmptyState>;

  async function ask(text) {
    const message = text.trim();
    if (!message || busy) return;
    setInput('');
    setBusy(true);
    const key = Date.now();
    setMessages((ms) => [...ms, { key: key + 'u', role: 'user', text: message }, { key: key + 'a', role: 'assistant', ...initialAnswer() }]);
    const ctl = new AbortController();
    ctlRef.current = ctl;
    try {
      await sendChat(
        runId,
        message,
        (st) => setMessages((ms) => ms.map((m) => (m.key === key + 'a' ? { ...m, ...st } : m))),
        ctl.signal,
      );
    } catch (e) {
      if (e.name !== 'AbortError') {
        setMessages((ms) => ms.map((m) => (m.key === key + 'a' ? { ...m, status: 'error', error: { message: e.message } } : m)));
      }
    } finally {
      setBusy(false);
    }
  }

  const suggestions = suggestedQuestions(run);

  return (
    <div className="mx-auto flex h-[calc(100vh-8rem)] max-w-4xl flex-col">
      <h1 className="mb-2 text-xl font-semibold">Chat about {run.filename}</h1>
      <ErrorBox error={loadError} title="Could not load the conversation" />
      <div className="flex-1 space-y-3 overflow-y-auto rounded-xl border border-slate-200 bg-slate-50 p-4" aria-live="polite" data-testid="chat-log">
        {loading && <Spinner label="Loading conversation" />}
        {!loading && messages.length === 0 && (
          <EmptyState title="Ask about this run">Answers use the run's own figures; the facts used are listed under each answer.</EmptyState>
        )}
        {messages.map((m, i) => (
          <Message key={m.key || m.message_id || i} m={m} />
        ))}
        <div ref={endRef} />
      </div>
      <div className="mt-3 flex flex-wrap gap-2" aria-label="Suggested questions">
        {suggestions.map((q) => (
          <button key={q} type="button" className={btnSecondary + ' rounded-full text-xs'} onClick={() => ask(q)} disabled={busy}>
            {q}
          </button>
        ))}
      </div>
      <form
        className="mt-3 flex gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          ask(input);
        }}
      >
        <label htmlFor="chat-input" className="sr-only">
          Your question
        </label>
        <input
          id="chat-input"
          className={inputCls + ' flex-1'}
          placeholder={busy ? 'Wait for the answer…' : 'Ask about these leads…'}
          value={input}
          disabled={busy}
          ref={inputRef}
          onChange={(e) => setInput(e.target.value)}
          maxLength={2000}
        />
        <button type="submit" className={btnPrimary} disabled={busy || !input.trim()}>
          {busy ? 'Answering…' : 'Send'}
        </button>
      </form>
    </div>
  );
}
