// app.js: the opsgraph web UI. Hash routes:
//   #/                  incidents (threads), waiting-for-decision first, live
//   #/t/THREAD          one incident: alert, context, root cause, actions, decision,
//                       graph, live timeline, execution, verification
//   #/t/THREAD/checkpoints  the thread's checkpoints with each step's writes
//   #/t/THREAD/postmortem   timeline, state diff, branches, fork from here (postmortem.js)
import * as api from './api.js';
import { postmortemView } from './postmortem.js';
import { render as renderGraph } from './graph.js';
import { jsonView } from './json.js';

const $ = (sel, root = document) => root.querySelector(sel);
const main = $('#main');
const LIST_POLL_MS = 3000;

// ---- small helpers ----------------------------------------------------------
function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
// a timeline entry's detail: most nodes write text; some write an object
function detailText(d) {
  if (d === null || d === undefined || typeof d !== 'object') return String(d ?? '');
  return Object.entries(d).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ');
}
function age(iso) {
  const t = Date.parse(iso);
  if (!t) return '';
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}
function hhmmss(iso) {
  const d = new Date(iso);
  return isNaN(d) ? String(iso ?? '') : d.toISOString().slice(11, 19);
}
function badge(text, cls) { return `<span class="badge ${esc(cls)}">${esc(text)}</span>`; }
function statusLabel(t) {
  if (t.status === 'interrupted') {
    const k = t.interrupts && t.interrupts[0] && t.interrupts[0].value && t.interrupts[0].value.kind;
    return k === 'decision' ? 'waiting for decision' : 'waiting';
  }
  return t.status || '?';
}
function toast(msg, err = false) {
  const d = document.createElement('div');
  d.className = `msg${err ? ' err' : ''}`;
  d.textContent = msg;
  $('#toast').appendChild(d);
  setTimeout(() => d.remove(), 4000);
}
function setConn(state) {
  const c = $('#conn');
  c.className = `conn ${state === 'live' ? 'live' : state === 'polling' ? 'live' : 'down'}`;
  c.textContent = state === 'live' ? '● live' : state === 'polling' ? '● polling' : `○ ${state}`;
}
function fmtNum(v, unit) {
  if (typeof v !== 'number') return v == null ? '–' : esc(v);
  if (unit === 'ratio') return `${(v * 100).toFixed(v < 0.1 ? 2 : 1)}%`;
  if (unit === 'ms') return `${Math.round(v)} ms`;
  return Math.abs(v) >= 100 ? String(Math.round(v)) : String(+v.toFixed(3));
}
function pct(v) {
  if (typeof v !== 'number') return '<span class="muted">–</span>';
  const cls = v > 0 ? 'up' : v < 0 ? 'down' : '';
  return `<span class="${cls}">${v > 0 ? '+' : ''}${Math.round(v)}%</span>`;
}

// ---- the operator session ----------------------------------------------------------
// With auth on, decisions need an operator: the token from `opsgraph token
// create NAME` is traded for a session cookie (HttpOnly: this code never
// sees it) and a CSRF token api.js sends with every POST.
const auth = { on: false, view: 'open', operator: null };
function paintOperator() {
  const b = $('#login-btn'), o = $('#operator');
  b.hidden = !auth.on;
  b.textContent = auth.operator ? 'Log out' : 'Log in';
  o.textContent = auth.operator ? auth.operator : auth.on ? 'not logged in' : '';
  o.className = `operator${auth.operator ? ' in' : ' muted'}`;
}
async function loadSession() {
  try {
    const s = await api.session();
    auth.on = !!s.auth;
    auth.view = s.view || 'open';
    auth.operator = s.operator || null;
  } catch (e) {
    toast(`Cannot read the session: ${e.message}`, true);
  }
  paintOperator();
}
function openLogin(why) {
  $('#login-token').value = '';
  const err = $('#login-error');
  err.textContent = why || '';
  err.hidden = !why;
  $('#login').showModal();
  $('#login-token').focus();
}
function loginView() {
  $('#crumbs').innerHTML = '<span>log in</span>';
  main.innerHTML = `<section class="card" style="max-width:520px"><h1 style="font-size:18px;margin:0 0 8px">Log in to see the incidents</h1>
    <p class="muted small">This server shows incidents to operators only (auth.view "login").</p>
    <button class="primary" type="button" id="login-open">Log in</button></section>`;
  $('#login-open').addEventListener('click', () => openLogin());
  openLogin();
  return () => {};
}
$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const ok = $('#login-ok');
  ok.disabled = true;
  try {
    const s = await api.login($('#login-token').value.trim());
    auth.operator = s.operator;
    $('#login').close();
    paintOperator();
    toast(`Logged in as ${s.operator}.`);
    if (!document.querySelector('#confirm[open]')) {
      route();
      main.focus(); // not the Log out button the dialog hands focus back to: Enter there would log out
    }
  } catch (e) {
    const err = $('#login-error');
    err.textContent = e.status === 401 ? 'No operator has this token (revoked, mistyped, or from another database).'
      : `${e.status ? `${e.status} ` : ''}${e.code || 'error'}: ${e.detail || e.message}`;
    err.hidden = false;
  } finally {
    ok.disabled = false;
  }
});
$('#login-cancel').addEventListener('click', () => $('#login').close());
$('#login-btn').addEventListener('click', async () => {
  if (!auth.operator) { openLogin(); return; }
  try {
    await api.logout();
    toast('Logged out.');
  } catch (e) {
    toast(`Logout: ${e.detail || e.message}`, true);
  }
  auth.operator = null;
  paintOperator();
  route();
});

// ---- views: each returns a cleanup function ----------------------------------
let cleanup = null;
let view = null; // the current view's key handler and state

function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  view = null;
  if (auth.on && auth.view === 'login' && !auth.operator) { cleanup = loginView(); return; }
  const h = location.hash || '#/';
  let m;
  if ((m = h.match(/^#\/t\/([^/]+)\/checkpoints$/))) cleanup = checkpointsView(decodeURIComponent(m[1]));
  else if ((m = h.match(/^#\/t\/([^/]+)\/postmortem$/))) {
    const pm = postmortemView(decodeURIComponent(m[1]), { auth, toast, openLogin, setConn });
    cleanup = pm.cleanup;
    view = pm.view;
  }
  else if ((m = h.match(/^#\/t\/([^/]+)$/))) cleanup = incidentView(decodeURIComponent(m[1]));
  else cleanup = listView();
}

// ---- incident list -------------------------------------------------------------
const detailCache = new Map(); // thread_id -> {updated_at, alert}

async function alertOf(t) {
  const v = t.interrupts && t.interrupts[0] && t.interrupts[0].value;
  if (v && v.kind === 'decision') return { service: v.service, severity: v.severity, summary: v.summary };
  const c = detailCache.get(t.thread_id);
  if (c && c.updated_at === t.updated_at) return c.alert;
  try {
    const d = await api.thread(t.thread_id);
    const a = (d.state && d.state.alert) || {};
    const alert = { service: a.service, severity: a.severity, summary: a.summary };
    detailCache.set(t.thread_id, { updated_at: t.updated_at, alert });
    return alert;
  } catch { return {}; }
}

function rank(t) {
  if (t.status === 'interrupted') return 0;
  if (t.status === 'running') return 1;
  if (t.status === 'error') return 2;
  return 3;
}

function listView() {
  $('#crumbs').innerHTML = '<span>incidents</span>';
  main.innerHTML = `<div class="row" style="justify-content:space-between;margin-bottom:10px">
      <h1 style="margin:0;font-size:18px">Incidents</h1>
      <span class="muted small">refreshes every ${LIST_POLL_MS / 1000} s · <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>Enter</kbd> open</span></div>
    <div id="list-err"></div>
    <table class="list" id="incidents"><thead><tr><th>incident</th><th>service</th><th>severity</th><th>status</th>
      <th>summary</th><th>age</th><th>updated</th></tr></thead><tbody><tr><td colspan="7" class="muted">Loading…</td></tr></tbody></table>`;
  const st = { rows: [], sel: null, timer: null, stopped: false };
  const tbody = $('#incidents tbody');

  const paint = () => {
    if (!st.rows.length) {
      tbody.innerHTML = '<tr><td colspan="7" class="muted">No incidents yet. An Alertmanager webhook (POST /alerts/alertmanager), a Slack message or POST /api/runs starts one.</td></tr>';
      return;
    }
    if (!st.sel || !st.rows.some((r) => r.t.thread_id === st.sel)) st.sel = st.rows[0].t.thread_id;
    tbody.innerHTML = st.rows.map(({ t, a }) => {
      const waiting = t.status === 'interrupted';
      const sl = statusLabel(t);
      return `<tr data-thread="${esc(t.thread_id)}" class="${waiting ? 'waiting' : ''} ${t.thread_id === st.sel ? 'sel' : ''}"
          aria-selected="${t.thread_id === st.sel}">
        <td class="mono"><a href="#/t/${encodeURIComponent(t.thread_id)}" tabindex="-1">${esc(t.thread_id)}</a><div class="muted small">${esc(t.graph)}</div></td>
        <td>${esc(a.service || '–')}</td>
        <td>${a.severity ? badge(a.severity, `sev-${a.severity}`) : '<span class="muted">–</span>'}</td>
        <td>${badge(sl, waiting ? 'st-waiting' : `st-${t.status}`)}</td>
        <td class="summary-cell">${esc(a.summary || (t.error ? t.error : ''))}</td>
        <td class="mono" title="${esc(t.created_at)}">${esc(age(t.created_at))}</td>
        <td class="mono" title="${esc(t.updated_at)}">${esc(age(t.updated_at))} ago</td></tr>`;
    }).join('');
  };

  const load = async () => {
    try {
      const { threads } = await api.threads();
      const rows = await Promise.all(threads.map(async (t) => ({ t, a: await alertOf(t) })));
      rows.sort((x, y) => rank(x.t) - rank(y.t) || String(y.t.updated_at).localeCompare(String(x.t.updated_at)));
      if (st.stopped) return;
      st.rows = rows;
      $('#list-err').innerHTML = '';
      setConn('polling');
      paint();
    } catch (e) {
      if (st.stopped) return;
      setConn('offline');
      $('#list-err').innerHTML = `<p class="error">Cannot load the incidents: ${esc(e.message)}</p>`;
    }
    if (!st.stopped) st.timer = setTimeout(load, LIST_POLL_MS);
  };

  const move = (d) => {
    if (!st.rows.length) return;
    let i = st.rows.findIndex((r) => r.t.thread_id === st.sel);
    i = Math.min(st.rows.length - 1, Math.max(0, i + d));
    st.sel = st.rows[i].t.thread_id;
    paint();
    const tr = tbody.querySelector('tr.sel');
    tr && tr.scrollIntoView({ block: 'nearest' });
  };
  tbody.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-thread]');
    if (tr) location.hash = `#/t/${encodeURIComponent(tr.dataset.thread)}`;
  });
  view = {
    key(ev) {
      if (ev.key === 'j' || ev.key === 'ArrowDown') { move(1); return true; }
      if (ev.key === 'k' || ev.key === 'ArrowUp') { move(-1); return true; }
      if (ev.key === 'Enter' && st.sel) { location.hash = `#/t/${encodeURIComponent(st.sel)}`; return true; }
      return false;
    },
  };
  load();
  return () => { st.stopped = true; clearTimeout(st.timer); };
}

// ---- incident page ---------------------------------------------------------------
let graphsCache = null;
async function mermaidOf(name) {
  if (!graphsCache) {
    try { graphsCache = (await api.graphs()).graphs || []; } catch { return null; }
  }
  const g = graphsCache.find((x) => x.name === name);
  return g ? g.mermaid : null;
}

function metricsTable(metrics) {
  const names = Object.keys(metrics || {});
  if (!names.length) return '<p class="muted">No metrics were collected.</p>';
  return `<table class="metrics"><thead><tr><th>metric</th><th>current</th><th>24 h ago</th><th>change</th>
      <th>7 d ago</th><th>change</th><th>peak</th></tr></thead><tbody>${names.map((n) => {
    const m = metrics[n] || {};
    return `<tr title="${esc(m.query)}"><td>${esc(n)}</td><td>${fmtNum(m.current, m.unit)}</td><td>${fmtNum(m.baseline_24h, m.unit)}</td>
      <td>${pct(m.change_24h_pct)}</td><td>${fmtNum(m.baseline_7d, m.unit)}</td><td>${pct(m.change_7d_pct)}</td>
      <td title="${esc(m.peak_at)}">${fmtNum(m.peak, m.unit)}</td></tr>`;
  }).join('')}</tbody></table>`;
}

function contextSection(c) {
  if (!c) return '';
  const logs = c.logs || {}, traces = c.traces || {};
  const tpl = (logs.templates || []).slice(0, 4).map((t) => `<li><span class="mono">${esc(t.template)}</span>
      <span class="muted">×${esc(t.count)}${t.new ? ', new' : ''}${t.level ? `, ${esc(t.level)}` : ''}</span></li>`).join('');
  const errs = (traces.errors || []).slice(0, 3).map((s) => `<li><span class="mono">${esc(s.operation)}</span>
      <span class="muted">${esc(s.service || '')} ×${esc(s.count)}</span></li>`).join('');
  const slow = (traces.slowest || []).slice(0, 3).map((s) => `<li><span class="mono">${esc(s.operation)}</span>
      <span class="muted">p99 ${esc(s.p99_ms)} ms</span></li>`).join('');
  const deploys = (c.deploys || []).slice(-3).map((d) => `<li class="mono">${esc(d.at)} ${esc(d.version)}</li>`).join('');
  return `<section class="card" id="context"><h2>Context: now against 24 h and 7 d ago</h2>
    ${metricsTable(c.metrics)}
    <div class="grid2" style="display:grid;grid-template-columns:1fr 1fr;gap:10px;margin-top:8px">
      <div><strong class="small">Log templates</strong> <span class="muted small">${esc(logs.source || '')} ${logs.total != null ? `${esc(logs.total)} lines` : ''}</span>
        <ul class="evidence small">${tpl || '<li class="muted">none</li>'}</ul></div>
      <div><strong class="small">Traces</strong> <span class="muted small">${esc(traces.source || '')}</span>
        <ul class="evidence small">${errs}${slow}${!errs && !slow ? '<li class="muted">none</li>' : ''}</ul></div>
    </div>
    ${deploys ? `<div class="small"><strong>Deploys</strong><ul class="evidence">${deploys}</ul></div>` : ''}
    ${(c.notes || []).length ? `<details class="small"><summary class="muted">${c.notes.length} collector note(s)</summary><ul class="evidence">${c.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></details>` : ''}
  </section>`;
}

function rcaSection(r) {
  if (!r) return '';
  const conf = typeof r.confidence === 'number' ? r.confidence : null;
  return `<section class="card" id="rca"><h2>Root cause</h2>
    <p class="rootcause" id="root-cause">${esc(r.root_cause)}</p>
    <div class="row small"><span class="muted">confidence</span>
      ${conf != null ? `<span class="confbar"><span style="width:${Math.round(conf * 100)}%"></span></span> <span class="mono">${conf.toFixed(2)}</span>` : '–'}
      <span class="muted">analyzer</span> <span class="mono">${esc(r.analyzer)}</span>
      ${r.signature ? `<span class="muted">signature</span> <span class="mono">${esc(r.signature)}</span>` : ''}</div>
    ${r.impact ? `<p class="small"><span class="muted">Impact:</span> ${esc(r.impact)}</p>` : ''}
    <strong class="small">Evidence</strong>
    <ul class="evidence">${(r.evidence || []).slice(0, 5).map((e) => `<li>${esc(e)}</li>`).join('')}</ul>
    ${(r.evidence || []).length > 5 ? `<details class="small"><summary class="muted">${r.evidence.length - 5} more</summary><ul class="evidence">${r.evidence.slice(5).map((e) => `<li>${esc(e)}</li>`).join('')}</ul></details>` : ''}
    ${(r.notes || []).length ? `<p class="small muted">${r.notes.map(esc).join('<br>')}</p>` : ''}
  </section>`;
}

// ---- dry-runs (nodes/dry_run_actions.lua): what each action would do ----------
function fileList(title, list, fmt) {
  if (!list || !list.length) return '';
  return `<dt>${esc(title)}</dt><dd><ul class="evidence mono">${list.map((f) => `<li>${fmt(f)}</li>`).join('')}</ul></dd>`;
}
function tail(text, n = 2000) {
  const t = String(text ?? '');
  return t.length > n ? `…${t.slice(-n)}` : t;
}
// Linux x86-64 signal numbers, as kill(1) names them
const SIGNAL_NAMES = ['0', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL',
  'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP',
  'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO',
  'SIGPWR', 'SIGSYS'];
function signalName(n) {
  if (typeof n === 'string') return n;
  return SIGNAL_NAMES[n] || `signal ${n}`;
}
// one report of ctx.tools.dry_run, every field the sandbox and the trace filled
function impactReport(r) {
  const f = r.files || {};
  const size = (x) => (x.size != null ? ` (${esc(x.old_size != null ? `${x.old_size} → ` : '')}${esc(x.size)} B)` : '');
  const procs = (r.processes || []).map((p) => `<li>${esc(p.pid)} ${esc(p.comm)}: ${esc((p.argv || []).join(' '))}${p.exit_code != null ? ` → exit ${esc(p.exit_code)}` : p.signal ? ` → killed by ${esc(signalName(p.signal))}` : ''}</li>`).join('');
  const net = (r.network || []).map((n) => `<li>${esc(n.addr)}:${esc(n.port)} ${esc(n.family || '')} ${esc(n.result || '')}</li>`).join('');
  const sig = (r.signals || []).map((x) => {
    const what = x.signal === 0 ? 'liveness check (kill -0)' : signalName(x.signal);
    const target = `${x.target_comm ? `${x.target_comm} ` : ''}(pid ${x.target_pid}${x.scope ? `, ${x.scope}` : ''})`;
    return `<li>${esc(what)} to ${esc(target)}${x.result ? `: ${esc(x.result)}` : ''}${x.comm ? ` <span class="muted">from ${esc(x.comm)}</span>` : ''}</li>`;
  }).join('');
  const den = (r.denied || []).map((x) => `<li>${esc(x.syscall)} by ${esc(x.comm)} (${esc(x.pid)})</li>`).join('');
  const sur = (r.surprises || []).map((x) => `<li>${esc(x.path)}: ${esc(x.why || '')}</li>`).join('');
  // opens for writing the overlay diff cannot show: refused in the sandbox (a real run may succeed)
  const els = (r.writes_not_in_diff || []).map((x) => `<li>${esc(x.path)}${x.result && x.result !== 'ok' ? `: ${esc(x.result)} in the dry-run` : ''} <span class="muted">by ${esc(x.comm)}</span></li>`).join('');
  const argv = r.argv ? r.argv.join(' ') : r.method ? `${r.method} ${r.url}` : '';
  return `<div class="report" data-tool="${esc(r.tool)}">
    <div class="small"><strong class="mono">${esc(r.tool)}</strong> ${badge(r.fidelity || 'none', `fid-${r.fidelity || 'none'}`)}
      ${r.mode ? `<span class="muted">declared ${esc(r.mode)}</span>` : ''}</div>
    ${argv ? `<div class="tool">${esc(argv)}</div>` : ''}
    ${r.run_argv ? `<div class="small muted">the command itself (not run): <span class="mono">${esc(r.run_argv.join(' '))}</span></div>` : ''}
    ${r.reason ? `<p class="small">${esc(r.reason)}</p>` : ''}
    ${r.note ? `<p class="small muted">${esc(r.note)}</p>` : ''}
    <dl class="kv small">
      ${r.fidelity !== 'none' ? `<dt>exit</dt><dd class="mono">${r.exit_code != null ? esc(r.exit_code) : r.signal ? `killed by ${esc(signalName(r.signal))}` : '–'}${r.timed_out ? ' (timed out)' : ''}${r.duration_ms != null ? `, ${esc(r.duration_ms)} ms` : ''}${(r.limits_hit || []).length ? `, limits hit: ${esc(r.limits_hit.join(', '))}` : ''}</dd>` : ''}
      ${procs ? `<dt>processes</dt><dd><ul class="evidence mono">${procs}</ul></dd>` : ''}
      ${fileList('created', f.created, (x) => `${esc(x.path)}${size(x)}`)}
      ${fileList('modified', f.modified, (x) => `${esc(x.path)}${size(x)}`)}
      ${fileList('deleted', f.deleted, (x) => esc(x.path ?? x))}
      ${fileList('renamed', f.renamed, (x) => `${esc(x.from)} → ${esc(x.to)}`)}
      ${fileList('chmod', f.chmod, (x) => esc(typeof x === 'object' ? `${x.path} ${x.mode ?? ''}` : x))}
      ${els ? `<dt class="surprise">writes not in the diff</dt><dd class="surprise"><ul class="evidence mono">${els}</ul></dd>` : ''}
      ${net ? `<dt>network</dt><dd><ul class="evidence mono">${net}</ul></dd>` : ''}
      ${sig ? `<dt>signals</dt><dd><ul class="evidence mono">${sig}</ul></dd>` : ''}
      ${den ? `<dt>denied</dt><dd><ul class="evidence mono">${den}</ul></dd>` : ''}
      ${sur ? `<dt class="surprise">surprises</dt><dd class="surprise"><ul class="evidence mono">${sur}</ul></dd>` : ''}
    </dl>
    ${r.stdout ? `<div class="small muted">stdout</div><pre class="out">${esc(tail(r.stdout))}</pre>` : ''}
    ${r.stderr ? `<div class="small muted">stderr</div><pre class="out">${esc(tail(r.stderr))}</pre>` : ''}
    ${r.native ? `<div class="small muted">native dry-run <span class="mono">${esc((r.native.argv || []).join(' '))}</span> → exit ${esc(r.native.exit_code)}</div><pre class="out">${esc(tail(`${r.native.stdout || ''}${r.native.stderr || ''}`))}</pre>` : ''}
  </div>`;
}
// the card's dry-run slot: fidelity, verdict, and the reports behind them.
// d is state.dry_runs.actions[id] (with reports) or the question's
// action.dry_run ({fidelity, verdict}); without either, why not.
function dryRunSlot(d) {
  if (!d) return '<div class="dryrun" data-slot="dry-run"><span class="verdict">not dry-run: no dry-run ran for this plan</span></div>';
  const fid = d.fidelity || 'none';
  const reports = d.reports || [];
  return `<div class="dryrun" data-slot="dry-run" data-fidelity="${esc(fid)}">
    <div class="row small">${badge(`dry-run: ${fid}`, `fid-${fid}`)}</div>
    <div class="verdict">${esc(d.verdict || 'not dry-run: no verdict')}</div>
    ${reports.length ? `<details class="impact"><summary>impact report${reports.length > 1 ? ` (${reports.length} tools)` : ''}</summary>${reports.map(impactReport).join('')}</details>` : ''}
  </div>`;
}

function actionCards(actions, chosen, canDecide, dryRuns) {
  const runs = (dryRuns && dryRuns.actions) || {};
  return `<div class="actions" id="actions">${(actions || []).map((a) => `
    <article class="action${chosen === String(a.id) ? ' chosen' : ''}" data-action="${esc(a.id)}">
      <h3><span class="num">${esc(a.id)}</span>${esc(a.title)}</h3>
      <div class="row small">${badge(`risk ${a.risk}`, `risk-${a.risk}`)} <span class="muted">eta</span> <span class="mono">${esc(a.eta)} s</span></div>
      <p>${esc(a.description)}</p>
      ${(a.tools || []).map((t) => `<div class="tool">${esc(t.name)}(${esc(JSON.stringify(t.args || {}))})</div>`).join('')}
      ${dryRunSlot(runs[String(a.id)] || a.dry_run)}
      ${canDecide ? `<div class="row"><button type="button" class="primary" data-choice="${esc(a.id)}">Approve ${esc(a.id)} <kbd>${esc(a.id)}</kbd></button></div>` : ''}
    </article>`).join('')}</div>`;
}

function decisionSection(t, s) {
  const intr = t.interrupts && t.interrupts[0];
  const v = intr && intr.value;
  const dec = s.decision;
  let out = '';
  if (t.status === 'interrupted' && v && v.kind === 'decision') {
    const choices = v.choices || [];
    out += `<section class="card" id="decide"><h2>Decision needed</h2>
      <p>${esc(v.question)}</p>
      ${v.rejected ? `<p class="error" id="rejected" role="alert">The last answer was refused: ${esc(v.rejected.reason)}
        <span class="muted">(${esc(JSON.stringify(v.rejected.value))} at ${esc(v.rejected.at)})</span></p>` : ''}
      <dl class="kv small"><dt>plan hash</dt><dd class="mono" id="plan-hash">${esc(v.plan_hash)}</dd>
        <dt>interrupt</dt><dd class="mono">${esc(intr.id)}</dd>
        <dt>re-analyses</dt><dd>${esc(v.re_analyses ? `${v.re_analyses.done} of ${v.re_analyses.max}` : '–')}</dd>
        <dt>deadlines</dt><dd>${v.deadlines ? `escalate to ${esc(v.deadlines.escalation_target || '–')} at <span class="mono">${esc(v.deadlines.escalate_at)}</span>; ${esc(v.deadlines.default)} at <span class="mono">${esc(v.deadlines.final_at)}</span>` : '<span class="muted">none</span>'}</dd></dl>
      ${actionCards(v.actions, null, true, s.dry_runs)}
      <div class="row decide">
        ${choices.includes('manual') ? '<button type="button" data-choice="manual">Handle manually <kbd>m</kbd></button>' : ''}
        ${choices.includes('re_analyze') ? '<button type="button" data-choice="re_analyze">Re-analyze <kbd>r</kbd></button>' : ''}
        <span class="muted small">Every choice asks for confirmation; the plan hash shown is sent, so a changed plan is refused.</span>
      </div></section>`;
  } else if (t.status === 'interrupted' && v) {
    const opts = v.options || [];
    out += `<section class="card" id="decide"><h2>Question: ${esc(v.kind || intr.node)}</h2>
      <p>${esc(v.question || v.reason || '')}</p>
      <div class="row">${opts.map((o) => `<button type="button" data-option="${esc(o)}">${esc(o)}</button>`).join('')}</div>
      <details class="json"><summary>interrupt value</summary>${jsonView(v).outerHTML}</details></section>`;
  } else if (s.plan) {
    out += `<section class="card"><h2>Actions</h2>${actionCards(s.plan.actions, dec && dec.choice, false, s.dry_runs)}
      <p class="small muted">plan hash <span class="mono">${esc(s.plan.hash)}</span></p></section>`;
  }
  return out;
}

function whoSection(t, s) {
  // every answer is on the timeline (decision, decision_refused, ...); the
  // approvers' notes sent beside an answer are notes of the thread
  const rows = [];
  for (const e of s.timeline || []) {
    if (/^decision($|_refused|_escalated)/.test(e.event) || (e.node === 'verify_recovery' && /answer|rollback|manual|re_analy/.test(e.event))) {
      rows.push({ at: e.at, what: e.event.replace('_', ' '), detail: e.detail, cls: e.event === 'decision_refused' ? 'up' : '' });
    }
  }
  for (const n of t.notes || []) {
    const v = n.value || {};
    if (v.kind === 'decision_note') rows.push({ at: v.at, what: `note by ${v.by}`, detail: v.note });
  }
  const d = s.decision;
  if (!rows.length && !d) return '';
  rows.sort((a, b) => String(a.at).localeCompare(String(b.at)));
  return `<section class="card" id="who"><h2>Who decided what</h2>
    ${d ? `<dl class="kv small"><dt>last decision</dt><dd><strong>${esc(d.choice)}</strong> by <strong>${esc(d.by)}</strong> at <span class="mono">${esc(d.at)}</span></dd>
      ${d.note ? `<dt>note</dt><dd>${esc(d.note)}</dd>` : ''}${d.hint ? `<dt>hint</dt><dd>${esc(d.hint)}</dd>` : ''}
      ${d.handler ? `<dt>handler</dt><dd>${esc(d.handler)}</dd>` : ''}<dt>plan hash</dt><dd class="mono">${esc(d.plan_hash)}</dd></dl>` : ''}
    <ol class="tl">${rows.map((r) => `
    <li><span class="t" title="${esc(r.at)}">${esc(hhmmss(r.at))}</span><span><span class="ev ${r.cls || ''}">${esc(r.what)}</span>
      ${r.detail ? `<div class="d">${esc(detailText(r.detail))}</div>` : ''}</span></li>`).join('')}</ol></section>`;
}

function executionSection(x) {
  if (!x) return '';
  return `<section class="card" id="execution"><h2>Execution</h2>
    <div class="row">${badge(x.status, `st-${x.status}`)} <strong>${esc(x.action_id ? `${x.action_id}. ` : '')}${esc(x.title || '')}</strong>
      <span class="muted small">by ${esc(x.by || '?')} · ${esc(hhmmss(x.started_at))}–${esc(hhmmss(x.ended_at))}</span></div>
    ${x.summary ? `<p class="small">${esc(x.summary)}</p>` : ''}
    ${(x.results || []).map((r) => `<div class="tool" style="margin:6px 0">
      <div class="row">${badge(r.status, `st-${r.status === 'succeeded' ? 'succeeded' : r.status === 'failed' || r.status === 'timed_out' ? 'failed' : 'pending'}`)}
        <strong>${esc(r.tool)}</strong>(${esc(JSON.stringify(r.args || {}))})
        <span class="muted">${r.kind === 'http' ? `HTTP ${esc(r.http_status)}` : `exit ${esc(r.exit_code)}`} · ${esc(r.duration_ms)} ms</span></div>
      ${r.error ? `<div class="up">${esc(r.error)}</div>` : ''}
      ${r.stdout ? `<pre class="out">${esc(r.stdout)}</pre>` : ''}${r.stderr ? `<pre class="out up">${esc(r.stderr)}</pre>` : ''}
      ${r.body ? `<pre class="out">${esc(r.body)}</pre>` : ''}</div>`).join('')}
    ${(x.errors || []).length ? `<p class="error">${x.errors.map(esc).join('<br>')}</p>` : ''}
  </section>`;
}

function verificationSection(v) {
  if (!v) return '';
  return `<section class="card" id="verification"><h2>Verification</h2>
    <div class="row">${badge(v.status, v.recovered ? 'st-recovered' : 'st-failed')}
      <span class="small">${v.recovered ? 'recovered' : 'not recovered'}${v.time_to_recovery_s != null ? ` · time to recovery ${esc(v.time_to_recovery_s)} s` : ''}${v.after_action_s != null ? ` · ${esc(v.after_action_s)} s after the action` : ''}</span></div>
    <dl class="kv small" style="margin-top:6px"><dt>query</dt><dd class="mono">${esc(v.query)}</dd>
      <dt>condition</dt><dd class="mono">${esc(v.condition)}</dd>
      <dt>last value</dt><dd class="mono">${esc(v.last_value)}</dd><dt>checks</dt><dd>${esc(v.checks)}</dd>
      ${v.reason ? `<dt>reason</dt><dd>${esc(v.reason)}</dd>` : ''}</dl></section>`;
}

function timelineItems(t, s) {
  const items = (s.timeline || []).map((e) => ({ at: e.at, node: e.node, event: e.event, detail: e.detail }));
  for (const n of t.notes || []) {
    const v = n.value || {};
    if (v.kind === 'alert_firing' || v.kind === 'alert_resolved') {
      items.push({ at: v.at, node: 'alertmanager', event: v.kind.replace('_', ' '), detail: '' });
    }
  }
  items.sort((a, b) => String(a.at).localeCompare(String(b.at)));
  return items;
}

function incidentView(id) {
  $('#crumbs').innerHTML = `<a href="#/">incidents</a><span>›</span><span class="mono">${esc(id)}</span>
    <span>·</span><a href="#/t/${encodeURIComponent(id)}/checkpoints">checkpoints <kbd>c</kbd></a>
    <span>·</span><a href="#/t/${encodeURIComponent(id)}/postmortem">postmortem <kbd>p</kbd></a>`;
  main.innerHTML = '<p class="muted">Loading…</p>';
  const st = { t: null, stopped: false, pending: null, seen: new Set(), mermaid: null, error: null, lastErr: null };

  const paint = () => {
    const t = st.t;
    if (!t) return;
    const s = t.state || {};
    const a = s.alert || {};
    const intr = t.interrupts && t.interrupts[0];
    const current = intr ? intr.node : (t.next && t.next[0] ? t.next[0].node : null);
    const done = new Set((s.timeline || []).map((e) => e.node));
    const items = timelineItems(t, s);
    const sl = statusLabel(t);
    // keep what the operator is doing: the focused button and the scroll
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.choice : null;
    main.innerHTML = `
      <div class="inc-head"><h1>${esc(a.service || t.thread_id)}</h1>
        ${a.severity ? badge(a.severity, `sev-${a.severity}`) : ''}
        <span id="status">${badge(sl, t.status === 'interrupted' ? 'st-waiting' : `st-${t.status}`)}</span>
        <span class="mono muted small">${esc(t.thread_id)} · step ${esc(t.step)} · checkpoint ${esc(t.checkpoint_id)}</span></div>
      ${st.lastErr ? `<p class="error" id="action-error" role="alert">${esc(st.lastErr)}</p>` : ''}
      ${t.error ? `<p class="error">${esc(typeof t.error === 'string' ? t.error : JSON.stringify(t.error))}</p>` : ''}
      <div class="grid"><div>
        ${rcaSection(s.rca)}
        ${executionSection(s.execution)}
        ${verificationSection(s.verification)}
        ${decisionSection(t, s)}
        <section class="card" id="alert"><h2>Alert</h2>
          <p style="margin:0 0 6px">${esc(a.summary || '')}</p>
          <dl class="kv small"><dt>source</dt><dd>${esc(a.source)}</dd><dt>started</dt><dd class="mono">${esc(a.started_at)}</dd>
            ${a.ends_at ? `<dt>ended</dt><dd class="mono">${esc(a.ends_at)}</dd>` : ''}
            ${a.expr ? `<dt>expr</dt><dd class="mono">${esc(a.expr)}</dd>` : ''}
            <dt>labels</dt><dd class="mono">${esc(Object.entries(a.labels || {}).map(([k, v]) => `${k}=${v}`).join(' '))}</dd></dl></section>
        ${contextSection(s.context)}
      </div><div>
        <section class="card" id="graph"><h2>Graph <span class="mono">${esc(t.graph)}</span></h2><div id="svg"></div>
          <p class="small muted" style="margin:4px 0 0">${current ? `now: <span class="mono">${esc(current)}</span>` : `${esc(t.status)}`}</p></section>
        ${whoSection(t, s)}
        <section class="card" id="timeline"><h2>Timeline <span class="muted small" id="tl-live"></span></h2>
          <ol class="tl">${items.map((e) => {
            const key = `${e.at}|${e.node}|${e.event}|${e.detail}`;
            const fresh = st.seen.size && !st.seen.has(key);
            st.seen.add(key);
            return `<li class="${fresh ? 'fresh' : ''}" data-node="${esc(e.node)}" data-event="${esc(e.event)}"><span class="t" title="${esc(e.at)}">${esc(hhmmss(e.at))}</span>
              <span><span class="nd">${esc(e.node)}</span> <span class="ev">${esc(e.event)}</span>${e.detail ? `<div class="d">${esc(detailText(e.detail))}</div>` : ''}</span></li>`;
          }).join('')}</ol></section>
      </div></div>`;
    if (st.mermaid) $('#svg').appendChild(renderGraph(st.mermaid, { current, done }));
    if (focused) { const b = main.querySelector(`[data-choice="${CSS.escape(focused)}"]`); b && b.focus(); }
  };

  const load = async () => {
    try {
      st.t = await api.thread(id);
      if (!st.mermaid && st.t.graph) st.mermaid = await mermaidOf(st.t.graph);
      if (!st.stopped) paint();
    } catch (e) {
      if (!st.stopped) main.innerHTML = `<p class="error">Cannot load thread ${esc(id)}: ${esc(e.message)}</p><p><a href="#/">back to the incidents</a></p>`;
    }
  };
  const refresh = () => {
    clearTimeout(st.pending);
    st.pending = setTimeout(load, 120);
  };
  const close = api.stream(id, {
    onCheckpoint: refresh,
    onNote: refresh,
    onState: (s) => { setConn(s); const l = $('#tl-live'); if (l) l.textContent = s === 'live' ? '● live' : s; },
  });

  main.addEventListener('click', onClick);
  function onClick(ev) {
    const b = ev.target.closest('button[data-choice], button[data-option]');
    if (!b || !st.t) return;
    if (b.dataset.choice) openDecision(b.dataset.choice);
    else openOption(b.dataset.option);
  }
  function openDecision(choice) {
    const t = st.t;
    const intr = t && t.interrupts && t.interrupts[0];
    const v = intr && intr.value;
    if (!v || v.kind !== 'decision') { toast('This incident is not waiting for a decision.', true); return; }
    if (!(v.choices || []).includes(choice)) { toast(`"${choice}" is not offered now.`, true); return; }
    // the hash the operator sees on the page is the one sent
    const shown = ($('#plan-hash') || {}).textContent || v.plan_hash;
    const action = (v.actions || []).find((x) => String(x.id) === choice);
    const title = action ? `Approve action ${choice}` : choice === 'manual' ? 'Handle it manually' : 'Re-analyze';
    const body = action ? `${action.title} (risk ${action.risk}, eta ${action.eta} s): ${(action.tools || []).map((x) => `${x.name}(${JSON.stringify(x.args || {})})`).join(', ')}`
      : choice === 'manual' ? 'Nothing runs; the incident ends with you as its handler and the runbook attached.'
      : 'Collect the context again and ask the analyzer once more; the plan may change.';
    confirmDialog({ title, body, hash: shown, iid: intr.id, hint: choice === 're_analyze' }, async ({ note, hint }) => {
      const value = { choice, plan_hash: shown };
      if (note) value.note = note;
      if (hint) value.hint = hint;
      await api.resume(id, intr.id, value);
    });
  }
  function openOption(opt) {
    const intr = st.t && st.t.interrupts && st.t.interrupts[0];
    if (!intr) return;
    confirmDialog({ title: `Answer "${opt}"`, body: intr.value && (intr.value.question || intr.value.reason) || '', hash: '–', iid: intr.id, hint: false },
      async ({ note }) => { await api.resume(id, intr.id, note ? { choice: opt, note } : opt); });
  }
  function confirmDialog(opts, send) {
    openConfirm(opts, async (vals) => {
      try {
        await send(vals);
        st.lastErr = null;
        toast(`Sent: ${opts.title}. The run goes on; the timeline updates live.`);
        refresh();
        return null;
      } catch (e) {
        const msg = `${e.status ? `${e.status} ` : ''}${e.code || 'error'}: ${e.detail || e.message}`;
        st.lastErr = `Refused: ${msg}`;
        paint();
        if (e.status === 401) {
          // the dialog stays open: after logging in, Confirm sends the same answer
          auth.operator = null;
          paintOperator();
          openLogin('Log in to decide: decisions are recorded under your operator name.');
        }
        return msg;
      }
    });
  }
  view = {
    key(ev) {
      if (['1', '2', '3'].includes(ev.key)) { openDecision(ev.key); return true; }
      if (ev.key === 'm') { openDecision('manual'); return true; }
      if (ev.key === 'r') { openDecision('re_analyze'); return true; }
      if (ev.key === 'c') { location.hash = `#/t/${encodeURIComponent(id)}/checkpoints`; return true; }
      if (ev.key === 'p') { location.hash = `#/t/${encodeURIComponent(id)}/postmortem`; return true; }
      return false;
    },
  };
  load();
  return () => { st.stopped = true; clearTimeout(st.pending); close(); main.removeEventListener('click', onClick); };
}

// ---- the confirmation dialog -------------------------------------------------------
function openConfirm({ title, body, hash, iid, hint }, onOk) {
  const dlg = $('#confirm');
  $('#confirm-title').textContent = title;
  $('#confirm-body').textContent = body;
  $('#confirm-hash').textContent = hash;
  $('#confirm-iid').textContent = iid;
  $('#hint-label').hidden = !hint;
  $('#confirm-hint').value = '';
  $('#confirm-note').value = '';
  const err = $('#confirm-error');
  err.hidden = true;
  err.textContent = '';
  const ok = $('#confirm-ok');
  ok.disabled = false;
  dlg.onsubmit = async (ev) => {
    ev.preventDefault();
    ok.disabled = true;
    const msg = await onOk({ note: $('#confirm-note').value.trim(), hint: hint ? $('#confirm-hint').value.trim() : '' });
    ok.disabled = false;
    if (msg) { err.textContent = msg; err.hidden = false; } else dlg.close();
  };
  dlg.showModal();
  (hint ? $('#confirm-hint') : $('#confirm-note')).focus();
}
$('#confirm-cancel').addEventListener('click', () => $('#confirm').close());

// ---- checkpoints ----------------------------------------------------------------------
function checkpointsView(id) {
  $('#crumbs').innerHTML = `<a href="#/">incidents</a><span>›</span><a class="mono" href="#/t/${encodeURIComponent(id)}">${esc(id)}</a>
    <span>›</span><span>checkpoints</span>`;
  main.innerHTML = '<p class="muted">Loading…</p>';
  const st = { stopped: false, pending: null, open: new Set(), openVals: new Set() };
  const load = async () => {
    try {
      const { history } = await api.history(id);
      if (st.stopped) return;
      main.innerHTML = `<div class="row" style="justify-content:space-between"><h1 style="font-size:18px;margin:0 0 8px">Checkpoints of <span class="mono">${esc(id)}</span></h1>
        <span class="muted small">newest first · updates live · <kbd>i</kbd> incident</span></div>
        <p class="small muted">Each step lists what each node wrote (node → channels), the values of those channels as the step left them, and its checkpoint as JSON.</p>
        <section class="card"><table class="ckpt" id="checkpoints"><thead><tr><th>id</th><th>step</th><th>source</th><th>status</th><th>writes</th><th>next</th><th>at</th></tr></thead>
        <tbody></tbody></table></section>`;
      const tb = $('#checkpoints tbody');
      for (const r of history) {
        const tr = document.createElement('tr');
        tr.dataset.checkpoint = r.id;
        tr.innerHTML = `<td class="mono">${esc(r.id)}${r.parent_id != null ? `<div class="muted small">← ${esc(r.parent_id)}</div>` : ''}</td>
          <td class="mono">${esc(r.step)}</td><td>${esc(r.source)}</td><td>${badge(r.status, r.status === 'interrupted' ? 'st-waiting' : `st-${r.status}`)}</td>
          <td class="writes"></td><td class="mono small">${esc((r.next || []).join(', '))}</td>
          <td class="mono small" title="${esc(r.created_at)}">${esc(hhmmss(r.created_at))}</td>`;
        const w = tr.querySelector('.writes');
        if (r.writes && Object.keys(r.writes).length) {
          w.innerHTML = `<div class="small">${Object.entries(r.writes).map(([n, ch]) => `<span class="mono">${esc(n)}</span> → ${esc([].concat(ch).join(', '))}`).join('<br>')}</div>`;
        } else w.innerHTML = '<span class="muted small">no writes</span>';
        const chans = [...new Set(Object.values(r.writes || {}).flatMap((ch) => [].concat(ch)))];
        if (chans.length) {
          // loaded when opened: the state as this checkpoint left it
          const vals = document.createElement('details');
          vals.className = 'json values';
          vals.innerHTML = `<summary>values of ${esc(chans.join(', '))} after this step</summary>`;
          // stays open across the re-renders a new checkpoint causes
          vals.open = st.openVals.has(String(r.id));
          vals.addEventListener('toggle', async () => {
            if (vals.open) st.openVals.add(String(r.id)); else st.openVals.delete(String(r.id));
            if (!vals.open || vals.dataset.loaded) return;
            vals.dataset.loaded = '1';
            try {
              const at = await api.thread(id, r.id);
              const s = at.state || {};
              vals.appendChild(jsonView(Object.fromEntries(chans.filter((ch) => ch in s).map((ch) => [ch, s[ch]]))));
            } catch (e) {
              delete vals.dataset.loaded;
              vals.insertAdjacentHTML('beforeend', `<p class="error">Cannot load checkpoint ${esc(r.id)}: ${esc(e.message)}</p>`);
            }
          });
          w.appendChild(vals);
        }
        const det = document.createElement('details');
        det.className = 'json row-json';
        det.open = st.open.has(String(r.id));
        det.addEventListener('toggle', () => (det.open ? st.open.add(String(r.id)) : st.open.delete(String(r.id))));
        det.innerHTML = '<summary>JSON</summary>';
        det.appendChild(jsonView(r));
        w.appendChild(det);
        tb.appendChild(tr);
      }
    } catch (e) {
      if (!st.stopped) main.innerHTML = `<p class="error">Cannot load the checkpoints of ${esc(id)}: ${esc(e.message)}</p>`;
    }
  };
  const close = api.stream(id, { onCheckpoint: () => { clearTimeout(st.pending); st.pending = setTimeout(load, 150); }, onState: setConn });
  view = { key(ev) { if (ev.key === 'i') { location.hash = `#/t/${encodeURIComponent(id)}`; return true; } return false; } };
  load();
  return () => { st.stopped = true; clearTimeout(st.pending); close(); };
}

// ---- keys -------------------------------------------------------------------------------
document.addEventListener('keydown', (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (document.querySelector('dialog[open]')) return; // a dialog handles its own keys (Esc cancels)
  const tag = ev.target && ev.target.tagName;
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;
  if ((tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY') && (ev.key === 'Enter' || ev.key === ' ')) return;
  if (ev.key === '?') { $('#keys').showModal(); ev.preventDefault(); return; }
  if (view && view.key(ev)) { ev.preventDefault(); return; }
  if (ev.key === 'Escape' && location.hash && location.hash !== '#/') { location.hash = '#/'; ev.preventDefault(); }
});
$('#keys-btn').addEventListener('click', () => $('#keys').showModal());
const theme = () => { document.documentElement.dataset.theme = localStorage.getItem('opsgraph.theme') || 'dark'; };
$('#theme-btn').addEventListener('click', () => {
  localStorage.setItem('opsgraph.theme', document.documentElement.dataset.theme === 'light' ? 'dark' : 'light');
  theme();
});
theme();
window.addEventListener('hashchange', route);
loadSession().then(route);
