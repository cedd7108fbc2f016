import { testApiKeys } from './http.js';

/** An open server-sent-events response: its status, headers, and its events' data as JSON. */
export interface SseStream {
  status: number;
  headers: Headers;
  /** Each event's `data`, parsed; ends when the server ends the stream. */
  events: AsyncGenerator<any>;
}

/**
 * GET `url` as an EventSource would, with an API key (the admin key unless told otherwise;
 * '' sends none), aborted after `timeoutMs` or by `signal`, whatever happens.
 */
export async function openSse(
  url: string,
  timeoutMs = 20_000,
  key: string = testApiKeys.admin,
  signal?: AbortSignal,
): Promise<SseStream> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...(key ? { 'x-api-key': key } : {}) },
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  return { status: res.status, headers: res.headers, events: parse(res) };
}

async function* parse(res: Response): AsyncGenerator<any> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data) yield JSON.parse(data);
    }
  }
}
