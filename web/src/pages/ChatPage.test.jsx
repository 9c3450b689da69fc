import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ChatPage from './ChatPage.jsx';

const run = { run_id: 9, status: 'done', filename: 'Leads.csv', display_columns: ['Lead Source'], importance: [] };
const enc = new TextEncoder();

describe('Chat page', () => {
  afterEach(() => vi.restoreAllMocks());

  it('disables the input while an answer streams, and breaks long words', async () => {
    let stream;
    globalThis.fetch = vi.fn(async (url, init = {}) => {
      if (init.method === 'POST') {
        const body = new ReadableStream({
          start(ctl) {
            stream = ctl;
          },
        });
        return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
      }
      return new Response(JSON.stringify({ messages: [] }), { status: 200 });
    });
    render(<ChatPage run={run} />);
    await screen.findByText('Ask about this run');
    const input = screen.getByLabelText('Your question');
    const long = 'x'.repeat(300);
    fireEvent.change(input, { target: { value: long } });
    fireEvent.submit(input.closest('form'));
    await waitFor(() => expect(input.disabled).toBe(true));
    expect(input.getAttribute('placeholder')).toBe('Wait for the answer…');
    expect(screen.getByTestId('user-message').className).toContain('break-words');
    await waitFor(() => expect(stream).toBeTruthy());
    await act(async () => {
      stream.enqueue(enc.encode('event: token\ndata: {"text":"Hi"}\n\n'));
      stream.enqueue(enc.encode('event: done\ndata: {"message_id":1,"provider":"builtin","text":"Hi there","took_ms":1}\n\n'));
      stream.close();
    });
    await waitFor(() => expect(input.disabled).toBe(false));
    expect(screen.getByTestId('answer-text').textContent).toBe('Hi there');
  });
});
