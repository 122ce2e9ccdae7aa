// api.js: every request the UI makes to `opsgraph serve`. The POSTs go through
// post() only, which sends the session's CSRF token in X-CSRF-Token. The
// session itself is an HttpOnly cookie this code never sees; the CSRF token
// comes from POST /api/login or, after a reload, GET /api/session.

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

async function parse(res) {
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!res.ok) {
    // the server's errors are {"error": code, "detail": text}
    const code = body && body.error ? body.error : `http_${res.status}`;
    const detail = body && body.detail ? body.detail : (text || res.statusText);
    throw new ApiError(res.status, code, detail);
  }
  return body;
}

async function get(path) {
  let res;
  try {
    res = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', `the server did not answer (${e.message})`);
  }
  return parse(res);
}

let csrf = null;

async function post(path, body) {
  let res;
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (csrf) headers['X-CSRF-Token'] = csrf;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', `the server did not answer (${e.message})`);
  }
  return parse(res);
}

const enc = encodeURIComponent;

// session: {auth, view, operator, csrf?}; operator is null when logged out
export async function session() {
  const s = await get('/api/session');
  csrf = (s && s.csrf) || null;
  return s;
}
export async function login(token) {
  const s = await post('/api/login', { token });
  csrf = s.csrf;
  return s;
}
export async function logout() {
  try { await post('/api/logout', {}); } finally { csrf = null; }
}

export const threads = () => get('/api/threads');
// thread: the thread now, or as checkpoint `at` left it
export const thread = (id, at) => get(`/api/threads/${enc(id)}${at ? `?checkpoint=${enc(at)}` : ''}`);
export const history = (id, limit = 200) => get(`/api/threads/${enc(id)}/history?limit=${limit}`);
export const graphs = () => get('/api/graphs');
// the postmortem page: the state diff of two checkpoints ([THREAD:]ID), the
// report, a fork, and running a thread that needs no answer (a fork)
export const diff = (id, from, to) => get(`/api/threads/${enc(id)}/diff?from=${enc(from)}&to=${enc(to)}`);
export const postmortem = (id) => get(`/api/threads/${enc(id)}/postmortem?format=json`);
export const fork = (id, checkpointId, update, asNode) =>
  post(`/api/threads/${enc(id)}/fork`, { checkpoint_id: checkpointId, update, as_node: asNode || null });
export const continueThread = (id) => post(`/api/threads/${enc(id)}/resume`, {});

// resume: answers the pending interrupt `interruptId` of thread `id`.
export const resume = (id, interruptId, value) =>
  post(`/api/threads/${enc(id)}/resume`, { value, interrupt_id: interruptId });

// stream: the thread's Server-Sent Events. EventSource reconnects by itself
// and sends Last-Event-ID (the last checkpoint id), so the server replays
// only what came after. Returns a function that closes the stream.
export function stream(id, { onCheckpoint, onNote, onState }) {
  const es = new EventSource(`/api/threads/${enc(id)}/stream`);
  es.addEventListener('checkpoint', (ev) => {
    let row = null;
    try { row = JSON.parse(ev.data); } catch { return; }
    onCheckpoint && onCheckpoint(row, ev.lastEventId);
  });
  es.addEventListener('note', (ev) => {
    try { onNote && onNote(JSON.parse(ev.data)); } catch { /* a malformed note is skipped */ }
  });
  es.onopen = () => onState && onState('live');
  es.onerror = () => onState && onState(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  return () => es.close();
}
