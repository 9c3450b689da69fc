// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { applyChatEvent, createSSEParser, initialAnswer, readEventStream } from './sse.js';

const enc = new TextEncoder();

function collect(chunks) {
  const out = [];
  const p = createSSEParser((e) => out.push(e));
  for (const c of chunks) p.feed(c);
  p.end();
  return out;
}

// A chat stream as the server sends it: meta, tokens (multi-byte UTF-8 too),
// a restart, done.
const events = [
  ['meta', { provider: 'gemini', restart: false, intent: 'best_category', facts: [{ id: 'f1', kind: 'category', title: 'Lead Source', text: 'Welingak Website converts 98.6 %', numbers: { rate: 0.986 } }] }],
  ['token', { text: 'The best ' }],
  ['token', { text: 'source — “Welingak” ' }],
  ['meta', { provider: 'llama', restart: true, intent: 'best_category', facts: [] }],
  ['token', { text: 'Welingak Website converts 98.6 % — 🚀 ' }],
  ['token', { text: 'ça marche, 日本語.' }],
  ['done', { message_id: 7, provider: 'llama', text: 'Welingak Website converts 98.6 % — 🚀 ça marche, 日本語.', took_ms: 812, first_ms: 95 }],
];
const wire =
  ': keep-alive comment\n\n' +
  events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join('') +
  'event: error\r\ndata: {"code":"UPSTREAM",\r\ndata: "message":"x"}\r\n\r\n';
const bytes = enc.encode(wire);

function expected() {
  return [
    ...events.map(([name, data]) => ({ event: name, data: JSON.stringify(data), id: '' })),
    { event: 'error', data: '{"code":"UPSTREAM",\n"message":"x"}', id: '' },
  ];
}

describe('SSE parser', () => {
  it('parses a whole stream', () => {
    expect(collect([bytes])).toEqual(expected());
  });

  it('gives the same events when the stream is split at every byte boundary', () => {
    const want = expected();
    for (let i = 1; i < bytes.length; i++) {
      expect(collect([bytes.slice(0, i), bytes.slice(i)])).toEqual(want);
    }
  });

  it('gives the same events fed one byte at a time (multi-byte UTF-8 split)', () => {
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    const got = collect(chunks);
    expect(got).toEqual(expected());
    expect(JSON.parse(got[4].data).text).toBe('Welingak Website converts 98.6 % — 🚀 ');
    expect(JSON.parse(got[5].data).text).toBe('ça marche, 日本語.');
  });

  it('splits a 4-byte character across three chunks', () => {
    const b = enc.encode('data: {"text":"🚀"}\n\n');
    const at = b.indexOf(0xf0);
    const got = collect([b.slice(0, at + 1), b.slice(at + 1, at + 3), b.slice(at + 3)]);
    expect(JSON.parse(got[0].data).text).toBe('🚀');
  });

  it('handles CR, LF and CRLF line ends, a CRLF split between chunks, BOM, comments, ids and a missing space', () => {
    const got = collect(['\uFEFFid: 3\r', '\nevent:token\rdata:{"text":"a"}\r', '\n\r\n: hi\ndata: plain\n\n']);
    expect(got).toEqual([
      { event: 'token', data: '{"text":"a"}', id: '3' },
      { event: 'message', data: 'plain', id: '3' },
    ]);
  });

  it('drops an event cut off before its blank line at the end of the stream', () => {
    expect(collect(['event: token\ndata: {"text":"x"}\n'])).toEqual([]);
    expect(collect(['event: token\ndata: {"text":"x"}\n\nevent: done\ndata: {}'])).toHaveLength(1);
  });
});

describe('chat answer from a stream', () => {
  it('a meta with restart:true discards the text so far', async () => {
    // a fetch Response whose body arrives in odd pieces
    const pieces = [];
    for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.slice(i, i + 7));
    const body = new ReadableStream({
      start(ctl) {
        for (const p of pieces) ctl.enqueue(p);
        ctl.close();
      },
    });
    const res = new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
    let state = initialAnswer();
    const seen = [];
    const on = (name) => (payload) => {
      state = applyChatEvent(state, name, payload);
      seen.push(state.text);
    };
    await readEventStream(res, { meta: on('meta'), token: on('token'), done: on('done'), error: on('error') });
    expect(seen).toContain('The best source — “Welingak” ');
    // after the restart the text starts again
    expect(seen[3]).toBe('');
    expect(seen[4]).toBe('Welingak Website converts 98.6 % — 🚀 ');
    expect(state.provider).toBe('llama');
    expect(state.restarts).toBe(1);
    expect(state.facts).toEqual([]);
    expect(state.message_id).toBe(7);
    expect(state.status).toBe('error'); // the trailing error event of the fixture
    expect(state.error).toEqual({ code: 'UPSTREAM', message: 'x' });
  });

  it('keeps the facts of the meta and the text of done', () => {
    let s = initialAnswer();
    s = applyChatEvent(s, 'meta', events[0][1]);
    expect(s.facts[0].title).toBe('Lead Source');
    s = applyChatEvent(s, 'token', { text: 'Hi' });
    s = applyChatEvent(s, 'done', { message_id: 1, provider: 'gemini', text: 'Hi there', took_ms: 5, first_ms: 1 });
    expect(s).toMatchObject({ status: 'done', text: 'Hi there', provider: 'gemini', facts: events[0][1].facts });
  });
});
