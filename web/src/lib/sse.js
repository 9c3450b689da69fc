// A small, pure text/event-stream parser (the WHATWG rules), fed bytes in
// pieces of any size: an event, a line, a "\r\n" pair or a multi-byte UTF-8
// character may be split anywhere between two chunks.

export function createSSEParser(onEvent) {
  const decoder = new TextDecoder('utf-8');
  let buf = '';
  let started = false;
  let type = '';
  let data = [];
  let lastId = '';
  let ended = false;

  function dispatch() {
    if (data.length === 0) {
      type = '';
      return;
    }
    const ev = { event: type || 'message', data: data.join('\n'), id: lastId };
    type = '';
    data = [];
    onEvent(ev);
  }

  function line(text) {
    if (text === '') {
      dispatch();
      return;
    }
    if (text[0] === ':') return; // comment / keep-alive
    const colon = text.indexOf(':');
    let field = text;
    let value = '';
    if (colon >= 0) {
      field = text.slice(0, colon);
      value = text.slice(colon + 1);
      if (value[0] === ' ') value = value.slice(1);
    }
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) lastId = value;
    // "retry" and unknown fields are ignored
  }

  function drain(final) {
    if (!started && buf.length > 0) {
      if (buf[0] === '\uFEFF') buf = buf.slice(1);
      started = true;
    }
    let start = 0;
    for (;;) {
      let i = start;
      while (i < buf.length && buf[i] !== '\n' && buf[i] !== '\r') i++;
      if (i >= buf.length) break;
      if (buf[i] === '\r' && i + 1 >= buf.length && !final) break; // maybe "\r\n" split
      line(buf.slice(start, i));
      start = buf[i] === '\r' && buf[i + 1] === '\n' ? i + 2 : i + 1;
    }
    buf = buf.slice(start);
    if (final) {
      // an unterminated last line still counts as a line; an event without
      // its blank line at the end of the stream is dropped (as browsers do)
      if (buf.length) line(buf);
      buf = '';
      type = '';
      data = [];
    }
  }

  return {
    feed(chunk) {
      if (ended) throw new Error('SSE parser: feed after end');
      buf += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      drain(false);
    },
    end() {
      if (ended) return;
      buf += decoder.decode();
      drain(true);
      ended = true;
    },
  };
}

// Reads a fetch Response whose body is text/event-stream and calls
// handlers[event](parsedJSON, rawEvent) for each event (JSON data; plain text
// when it does not parse). Resolves when the stream ends.
export async function readEventStream(response, handlers) {
  const call = (ev) => {
    let payload = ev.data;
    try {
      payload = JSON.parse(ev.data);
    } catch {
      /* not JSON: pass the text */
    }
    const h = handlers[ev.event] || handlers.any;
    if (h) h(payload, ev);
  };
  const parser = createSSEParser(call);
  const reader = response.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (value) parser.feed(value);
  }
  parser.end();
}

// The chat answer as a pure state machine over the stream's events:
// meta {provider, restart, intent, facts}, token {text},
// done {message_id, provider, text, took_ms, first_ms}, error {code, message}.
export function initialAnswer() {
  return { text: '', provider: null, facts: [], intent: null, status: 'streaming', error: null, restarts: 0 };
}

export function applyChatEvent(state, name, payload) {
  const p = payload && typeof payload === 'object' ? payload : {};
  switch (name) {
    case 'meta':
      return {
        ...state,
        text: p.restart ? '' : state.text,
        restarts: state.restarts + (p.restart ? 1 : 0),
        provider: p.provider ?? state.provider,
        intent: p.intent ?? state.intent,
        facts: Array.isArray(p.facts) ? p.facts : state.facts,
      };
    case 'token':
      return { ...state, text: state.text + (typeof p.text === 'string' ? p.text : '') };
    case 'done':
      return {
        ...state,
        status: 'done',
        text: typeof p.text === 'string' ? p.text : state.text,
        provider: p.provider ?? state.provider,
        message_id: p.message_id,
        took_ms: p.took_ms,
        first_ms: p.first_ms,
      };
    case 'error':
      return { ...state, status: 'error', error: { code: p.code || 'ERROR', message: p.message || String(payload) } };
    default:
      return state;
  }
}
