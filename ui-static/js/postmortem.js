// postmortem.js: the Postmortem page of a thread, #/t/THREAD/postmortem.
//   - the step-by-step timeline: from the postmortem report
//     (GET /api/threads/{id}/postmortem?format=json: steps, LLM calls,
//     decisions, tool executions) when the server has it, else from the
//     history of the thread's latest branch;
//   - the state diff between any two checkpoints (GET .../diff), added,
//     removed and changed paths coloured;
//   - the branch tree: checkpoints linked by parent_id, a fork point where a
//     checkpoint has more than one child;
//   - "fork from here": an update (JSON) written at a checkpoint, optionally
//     as a node (which decides what runs next), then the branch is run
//     (POST .../fork, then POST .../resume with no value, as `opsgraph
//     fork` + `opsgraph resume`); it needs the same operator session as a
//     decision;
//   - two branches side by side: the diff of their final states and their
//     timelines from the fork point on.
// app.js routes here and passes its helpers (toast, auth, login, live state).
import * as api from './api.js';

const $ = (sel, root = document) => root.querySelector(sel);
const RUN_POLL_MS = 400;
const RUN_POLL_TRIES = 150; // a branch run is watched for at most a minute

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
function hhmmss(iso) {
  const d = new Date(iso);
  return isNaN(d) ? String(iso ?? '') : d.toISOString().slice(11, 19);
}
function short(v, n = 120) {
  const s = v === undefined ? '' : JSON.stringify(v);
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
function badge(text, cls) { return `<span class="badge ${esc(cls)}">${esc(text)}</span>`; }
function statusBadge(s) { return badge(s, s === 'interrupted' ? 'st-waiting' : `st-${s}`); }
function writesText(w) {
  if (!w || !Object.keys(w).length) return '';
  return Object.entries(w).map(([n, ch]) => `${n} → ${[].concat(ch).join(', ')}`).join('; ');
}

// The page's stylesheet, added once: the rest of the UI does not need it.
function ensureStyle() {
  if (document.querySelector('link[data-pm]')) return;
  const l = document.createElement('link');
  l.rel = 'stylesheet';
  l.href = '/css/postmortem.css';
  l.dataset.pm = '1';
  document.head.appendChild(l);
}

// ---- the checkpoints as a tree -----------------------------------------------------
// hist: history rows, any order. Returns {byId, kids, leaves (newest first),
// path(id) (root → id), latest}.
export function branchModel(hist) {
  const byId = new Map(hist.map((r) => [r.id, r]));
  const kids = new Map();
  for (const r of hist) {
    const p = byId.has(r.parent_id) ? r.parent_id : 0;
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(r.id);
  }
  for (const k of kids.values()) k.sort((a, b) => a - b);
  const leaves = hist.filter((r) => !kids.has(r.id)).map((r) => r.id).sort((a, b) => b - a);
  const path = (id) => {
    const out = [];
    for (let r = byId.get(id); r; r = byId.get(r.parent_id)) out.unshift(r);
    return out;
  };
  const latest = hist.reduce((m, r) => Math.max(m, r.id), 0);
  return { byId, kids, leaves, path, latest };
}

// ---- the timeline --------------------------------------------------------------------
// From the report: every step, LLM call, decision and tool run, by time
// (as instants: a whole-second time sorted as a string goes after every
// millisecond time of its second). Exported for tests/cli/ui_postmortem.sh.
export function reportTimeline(r) {
  const items = [];
  for (const s of r.steps || []) {
    items.push({ at: s.ended_at || s.started_at, kind: 'step', ckpt: s.checkpoint,
      text: `step ${s.step}: ${(s.nodes || []).join(', ') || s.source || ''}`, extra: [s.status, s.duration_ms != null ? `${Math.round(s.duration_ms)} ms` : ''] });
  }
  for (const c of r.llm_calls || []) {
    items.push({ at: c.at, kind: 'llm', text: `${c.node || ''}: ${c.model || ''} (${c.role || ''})`,
      extra: [`${c.tokens_in ?? '?'} in / ${c.tokens_out ?? '?'} out`, c.latency_ms != null ? `${c.latency_ms} ms` : '', c.outcome || ''] });
  }
  for (const d of r.decisions || []) {
    items.push({ at: d.at, kind: 'decision', text: `${d.by || '?'} answered ${d.choice != null ? d.choice : short(d.answer, 60)}${d.node ? ` at ${d.node}` : ''}`,
      extra: [d.note ? `note: ${d.note}` : ''] });
  }
  for (const x of r.executions || []) {
    for (const t of x.results || []) {
      items.push({ at: t.started_at || x.started_at, kind: 'tool', text: `${t.tool}: ${t.status}`, extra: [t.exit_code != null ? `exit ${t.exit_code}` : '', t.duration_ms != null ? `${t.duration_ms} ms` : ''] });
    }
  }
  if (r.resolution && r.resolution.at) items.push({ at: r.resolution.at, kind: 'resolution', text: `${r.resolution.status || ''} ${r.resolution.outcome || ''}`, extra: [r.resolution.source || ''] });
  const ms = (at) => { const t = Date.parse(at); return isNaN(t) ? Infinity : t; };
  return items.filter((i) => i.at).sort((a, b) => ms(a.at) - ms(b.at));
}
// From the history: the checkpoints of one branch, oldest first.
function historyTimeline(rows) {
  return rows.map((r) => ({ at: r.created_at, kind: r.source === 'loop' ? 'step' : r.source, ckpt: r.id,
    text: r.source === 'fork' || r.source === 'update' ? `${r.source} of #${r.parent_id} (an edited state)`
      : `step ${r.step}: ${writesText(r.writes) || (r.source === 'input' ? 'input' : 'no writes')}`,
    extra: [r.status, (r.next || []).length ? `next ${(r.next || []).join(', ')}` : ''] }));
}
function timelineList(items, cls = '') {
  if (!items.length) return '<p class="muted small">nothing recorded</p>';
  return `<ol class="pm-timeline ${cls}">${items.map((i) => `<li class="pm-ev pm-${esc(i.kind)}"${i.ckpt != null ? ` data-checkpoint="${esc(i.ckpt)}"` : ''}>
    <span class="mono small muted" title="${esc(i.at)}">${esc(hhmmss(i.at))}</span>
    <span class="badge pm-kind">${esc(i.kind)}</span>
    <span class="pm-text">${esc(i.text)}</span>
    <span class="muted small">${esc(i.extra.filter(Boolean).join(' · '))}</span>
    ${i.ckpt != null ? `<span class="mono small muted">#${esc(i.ckpt)}</span>` : ''}</li>`).join('')}</ol>`;
}

// ---- the diff -----------------------------------------------------------------------------
function diffTable(d) {
  const s = d.summary || {};
  const rows = (d.changes || []).map((c) => `<tr class="op-${esc(c.op)}" data-path="${esc(c.path)}">
      <td><span class="op">${c.op === 'added' ? '+' : c.op === 'removed' ? '−' : '~'} ${esc(c.op)}</span></td>
      <td class="mono path">${esc(c.path || '(whole state)')}</td>
      <td class="mono small">${'from' in c ? esc(short(c.from)) : ''}</td>
      <td class="mono small">${'to' in c ? esc(short(c.to)) : ''}</td></tr>`).join('');
  return `<p class="small"><span class="op-added">${s.added || 0} added</span> · <span class="op-removed">${s.removed || 0} removed</span> ·
      <span class="op-changed">${s.changed || 0} changed</span>
      <span class="muted">(${esc(d.from.thread_id)} #${esc(d.from.checkpoint_id)} step ${esc(d.from.step)} → ${esc(d.to.thread_id)} #${esc(d.to.checkpoint_id)} step ${esc(d.to.step)})</span></p>
    ${rows ? `<table class="pm-diff"><thead><tr><th>op</th><th>path</th><th>from</th><th>to</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p class="muted small">the two states are the same</p>'}`;
}

// ---- the tree -------------------------------------------------------------------------------
// A chain of single-child checkpoints is one line; each fork point opens one
// nested list per child. Leaves carry the branch's status.
function treeHtml(m, rootId) {
  const chain = [];
  let id = rootId;
  for (;;) {
    chain.push(m.byId.get(id));
    const k = m.kids.get(id) || [];
    if (k.length !== 1) break;
    id = k[0];
  }
  const last = chain[chain.length - 1];
  const k = m.kids.get(last.id) || [];
  const chips = chain.map((r) => `<button type="button" class="pm-chip${r.source === 'fork' ? ' fork' : ''}" data-checkpoint="${esc(r.id)}"
      title="checkpoint ${esc(r.id)}, step ${esc(r.step)}, ${esc(r.source)}: ${esc(writesText(r.writes))}">#${esc(r.id)}<span class="muted small"> ${esc(Object.keys(r.writes || {}).join(',') || r.source)}</span></button>`).join('<span class="muted">→</span>');
  const leaf = k.length === 0 ? ` ${statusBadge(last.status)}${last.id === m.latest ? ' <span class="small muted">latest</span>' : ''}` : '';
  const sub = k.length > 1 ? `<ul>${k.map((c) => `<li class="branch-at" data-parent="${esc(last.id)}">${treeHtml(m, c)}</li>`).join('')}</ul>` : '';
  return `<div class="pm-chain${k.length === 0 ? ' leaf' : ''}"${k.length === 0 ? ` data-leaf="${esc(last.id)}"` : ''}>${chips}${leaf}</div>${sub}`;
}

function branchLabel(m, leaf) {
  const p = m.path(leaf);
  const fork = [...p].reverse().find((r) => r.source === 'fork');
  const r = m.byId.get(leaf);
  return `#${leaf} (${r.status}${fork ? `, fork #${fork.id} of #${fork.parent_id}` : ', original'})`;
}

// "42.1 s", "3.5 min", "2.0 h", "361.4 days"; "–" when not known
export function spanText(sec) {
  if (sec == null || Number.isNaN(+sec)) return '–';
  const s = +sec;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}
// the report's key figures: time to acknowledge and to resolve, counted from
// the alert's startsAt and from opsgraph's receipt, named apart (a replayed
// alert is months old by its startsAt), who acknowledged, the root cause
export function figuresHtml(r, id) {
  const m = r.metrics || {}, rc = r.root_cause || {};
  const enc = encodeURIComponent(id);
  const row = (k, v) => `<dt>${esc(k)}</dt><dd>${v}</dd>`;
  return `<dl class="kv small" id="pm-figures">
    ${row('time to acknowledge', `<span data-k="tta-received">${esc(spanText(m.time_to_acknowledge_from_received_s))}</span> from opsgraph's receipt · <span data-k="tta-started">${esc(spanText(m.time_to_acknowledge_s))}</span> from the alert's startsAt${m.acknowledged_by ? ` · by ${esc(m.acknowledged_by)}` : ''}`)}
    ${row('time to resolve', `<span data-k="ttr-received">${esc(spanText(m.time_to_resolve_from_received_s))}</span> from opsgraph's receipt · <span data-k="ttr-started">${esc(spanText(m.time_to_resolve_s))}</span> from the alert's startsAt${m.resolved_at ? '' : ' (not resolved)'}`)}
    ${rc.root_cause ? row('root cause', `${esc(rc.root_cause)}${rc.confidence != null ? ` <span class="muted">(confidence ${esc(rc.confidence)})</span>` : ''}`) : ''}
    ${row('report', `<a href="/api/threads/${enc}/postmortem?format=md" download="postmortem-${esc(id)}.md">Markdown</a> · <a href="/api/threads/${enc}/postmortem?format=html" target="_blank" rel="noopener">HTML page</a>`)}
  </dl>`;
}

// ---- the view ---------------------------------------------------------------------------------
export function postmortemView(id, ui) {
  ensureStyle();
  const main = $('#main');
  const enc = encodeURIComponent(id);
  $('#crumbs').innerHTML = `<a href="#/">incidents</a><span>›</span><a class="mono" href="#/t/${enc}">${esc(id)}</a>
    <span>›</span><span>postmortem</span><span>·</span><a href="#/t/${enc}/checkpoints">checkpoints</a>`;
  main.innerHTML = '<p class="muted">Loading…</p>';
  const st = { stopped: false, m: null, hist: [], thread: null, nodes: [], report: null, polling: null };

  const canFork = () => !ui.auth.on || !!ui.auth.operator;
  const ckptOptions = (sel) => [...st.hist].sort((a, b) => a.id - b.id).map((r) =>
    `<option value="${esc(r.id)}"${r.id === sel ? ' selected' : ''}>#${esc(r.id)} · step ${esc(r.step)} · ${esc(r.source)} · ${esc(writesText(r.writes) || r.status)}</option>`).join('');
  const leafOptions = (sel) => st.m.leaves.map((l) => `<option value="${esc(l)}"${l === sel ? ' selected' : ''}>${esc(branchLabel(st.m, l))}</option>`).join('');

  async function load() {
    const [h, t] = await Promise.all([api.history(id, 1000), api.thread(id)]);
    st.hist = h.history || [];
    st.thread = t;
    st.m = branchModel(st.hist);
    if (!st.nodes.length) {
      try {
        const g = await api.graphs();
        const mine = (g.graphs || []).find((x) => x.graph === t.graph || x.name === t.graph);
        st.nodes = (mine && mine.nodes) || [];
      } catch { st.nodes = []; }
    }
    try {
      st.report = await api.postmortem(id);
    } catch { st.report = null; } // not there (older server, or not built): the history is used
  }

  function render() {
    const m = st.m, t = st.thread;
    const first = m.path(m.latest)[0];
    const branches = m.leaves.length;
    const tl = st.report ? reportTimeline(st.report) : historyTimeline(m.path(m.latest));
    const a = m.leaves[1] ?? m.leaves[0], b = m.leaves[0];
    main.innerHTML = `<div class="row" style="justify-content:space-between"><h1 style="font-size:18px;margin:0 0 8px">Postmortem of <span class="mono">${esc(id)}</span></h1>
        <span class="muted small">${esc(t.graph)} · ${statusBadge(t.status)} · ${st.hist.length} checkpoints · ${branches} branch${branches === 1 ? '' : 'es'}</span></div>
      <div class="pm-grid">
      ${st.report ? `<section class="card wide" id="pm-figures-card"><h2>Key figures</h2>${figuresHtml(st.report, id)}</section>` : ''}
      <section class="card" id="pm-timeline-card"><h2>Timeline</h2>
        <p class="small muted" id="pm-timeline-source">${st.report ? 'from the postmortem report (steps, LLM calls, decisions, tools)' : `from the history of the latest branch (#${esc(first ? first.id : '')} → #${esc(m.latest)})`}</p>
        <div id="pm-timeline">${timelineList(tl)}</div></section>
      <section class="card" id="pm-tree-card"><h2>Branches</h2>
        <p class="small muted">Each line is a run of checkpoints; a fork point opens one line per branch. Click a checkpoint to fork from it or diff it.</p>
        <div id="pm-tree" class="pm-tree">${(m.kids.get(0) || []).map((r) => `<div class="branch-root">${treeHtml(m, r)}</div>`).join('')}</div></section>
      <section class="card" id="pm-diff-card"><h2>State diff</h2>
        <div class="row"><label>from <select id="pm-from">${ckptOptions(first ? first.id : 0)}</select></label>
          <label>to <select id="pm-to">${ckptOptions(m.latest)}</select></label>
          <button type="button" id="pm-diff-go" class="primary">Diff</button></div>
        <div id="pm-diff-result"></div></section>
      <section class="card" id="pm-fork-card"><h2>Fork from here</h2>
        <p class="small muted">Writes an update at a checkpoint (as if a node had written it: that node's edges decide what runs next), then runs the new branch.</p>
        <div class="row"><label>checkpoint <select id="pm-fork-ckpt">${ckptOptions(m.latest)}</select></label>
          <label>as node <select id="pm-fork-as"><option value="">(none: the next step stays)</option>${st.nodes.map((n) => `<option>${esc(n)}</option>`).join('')}</select></label></div>
        <div class="row"><label>channel <select id="pm-fork-chan"></select></label>
          <button type="button" id="pm-fork-insert" class="ghost">Edit its value</button>
          <span id="pm-presets" class="row"></span></div>
        <label for="pm-fork-update" class="small">update (a JSON object of channel writes)</label>
        <textarea id="pm-fork-update" class="mono" rows="8" spellcheck="false">{}</textarea>
        <p id="pm-fork-error" class="error" role="alert" hidden></p>
        <div class="row end"><span id="pm-fork-status" class="small muted" role="status"></span>
          ${canFork() ? '' : '<span class="small muted" id="pm-fork-login-note">Forking needs an operator session, as deciding does.</span>'}
          <button type="button" id="pm-fork-run" class="primary">${canFork() ? 'Fork and run' : 'Log in to fork'}</button></div></section>
      <section class="card wide" id="pm-compare-card"><h2>Compare two branches</h2>
        <div class="row"><label>left <select id="pm-cmp-a">${leafOptions(a)}</select></label>
          <label>right <select id="pm-cmp-b">${leafOptions(b)}</select></label>
          <button type="button" id="pm-cmp-go" class="primary">Compare</button></div>
        <div id="pm-compare"></div></section>
      </div>`;
    wire();
    fillChannels();
  }

  async function showDiff(from, to, where) {
    where.innerHTML = '<p class="muted small">…</p>';
    try {
      const d = await api.diff(id, from, to);
      if (!st.stopped) where.innerHTML = diffTable(d);
    } catch (e) {
      where.innerHTML = `<p class="error">Cannot diff #${esc(from)} → #${esc(to)}: ${esc(e.detail || e.message)}</p>`;
    }
  }

  async function compare() {
    const a = Number($('#pm-cmp-a').value), b = Number($('#pm-cmp-b').value);
    const out = $('#pm-compare');
    const pa = st.m.path(a), pb = st.m.path(b);
    let common = 0;
    while (common < pa.length && common < pb.length && pa[common].id === pb[common].id) common++;
    const fork = common > 0 ? pa[common - 1] : null;
    out.innerHTML = `<p class="small muted">common history up to ${fork ? `#${esc(fork.id)} (step ${esc(fork.step)})` : 'nothing'}; then each branch:</p>
      <div class="pm-side"><div class="pm-col" id="pm-col-a"><h3>${esc(branchLabel(st.m, a))}</h3>${timelineList(historyTimeline(pa.slice(common)), 'compact')}</div>
      <div class="pm-col" id="pm-col-b"><h3>${esc(branchLabel(st.m, b))}</h3>${timelineList(historyTimeline(pb.slice(common)), 'compact')}</div></div>
      <h3>final states: left → right</h3><div id="pm-compare-diff"></div>`;
    await showDiff(a, b, $('#pm-compare-diff'));
  }

  async function fillChannels() {
    const at = Number($('#pm-fork-ckpt').value);
    const sel = $('#pm-fork-chan');
    try {
      const s = await api.thread(id, at);
      if (st.stopped) return;
      st.forkState = s.state || {};
      sel.innerHTML = Object.keys(st.forkState).sort().map((k) => `<option>${esc(k)}</option>`).join('');
    } catch (e) {
      sel.innerHTML = '';
      ui.toast(`Cannot load checkpoint ${at}: ${e.detail || e.message}`, true);
    }
    presets();
  }

  // Shortcuts for the incident graph, shown only when the graph has the
  // nodes and the state the channels they write.
  function presets() {
    const p = $('#pm-presets');
    const s = st.forkState || {};
    const has = (n) => st.nodes.includes(n);
    const btns = [];
    if (has('human_decision') && s.plan && Array.isArray(s.plan.actions)) {
      for (const act of s.plan.actions) btns.push([`action ${act.id}`, 'human_decision',
        { decision: { choice: String(act.id), plan_hash: s.plan.hash, note: 'postmortem fork', by: ui.auth.operator || 'postmortem' },
          decision_request: { open: false } }]);
    }
    if (has('context_collector') && has('root_cause_analyzer') && 'context' in s) {
      btns.push(['re-analyze with a hint', 'context_collector', { operator_hint: 'look at the most recent deploy first' }]);
      // root_cause_analyzer asks operator_model first (ctx.llm.chat's model)
      btns.push(['re-analyze with another model', 'context_collector', { operator_model: 'PROVIDER/MODEL' }]);
    }
    p.innerHTML = btns.map(([label], i) => `<button type="button" class="ghost pm-preset" data-i="${i}">${esc(label)}</button>`).join('');
    p.onclick = (ev) => {
      const b = ev.target.closest('.pm-preset');
      if (!b) return;
      const [, as, up] = btns[Number(b.dataset.i)];
      $('#pm-fork-as').value = as;
      $('#pm-fork-update').value = JSON.stringify(up, null, 2);
    };
  }

  async function waitBranch(forkId) {
    // the branch's newest checkpoint descends from the fork; watch it until
    // it is no longer running
    for (let i = 0; i < RUN_POLL_TRIES && !st.stopped; i++) {
      await new Promise((r) => { st.polling = setTimeout(r, RUN_POLL_MS); });
      const h = await api.history(id, 1000);
      const m = branchModel(h.history || []);
      const leaf = m.leaves.find((l) => m.path(l).some((r) => r.id === forkId));
      if (leaf && m.byId.get(leaf).status !== 'running') return leaf;
    }
    return null;
  }

  async function forkAndRun() {
    const err = $('#pm-fork-error'), status = $('#pm-fork-status');
    err.hidden = true;
    if (!canFork()) { ui.openLogin('Forking a thread needs an operator session, as a decision does.'); return; }
    let update;
    try {
      update = JSON.parse($('#pm-fork-update').value || '{}');
      if (update === null || typeof update !== 'object' || Array.isArray(update)) throw new Error('the update must be a JSON object of channel writes, e.g. {"note": "x"}');
    } catch (e) {
      err.textContent = `update: ${e.message}`;
      err.hidden = false;
      return;
    }
    const at = Number($('#pm-fork-ckpt').value), as = $('#pm-fork-as').value || null;
    const btn = $('#pm-fork-run');
    btn.disabled = true;
    try {
      status.textContent = `forking #${at}…`;
      const f = await api.fork(id, at, update, as);
      status.textContent = `fork #${f.checkpoint_id} of #${at} saved; running the branch…`;
      await api.continueThread(id);
      const leaf = await waitBranch(f.checkpoint_id);
      if (st.stopped) return;
      await load();
      render();
      showDiff($('#pm-from').value, $('#pm-to').value, $('#pm-diff-result'));
      $('#pm-fork-status').textContent = leaf ? `branch #${f.checkpoint_id} ran: ${st.m.byId.get(leaf).status} at #${leaf}` : `branch #${f.checkpoint_id} is still running`;
      if (leaf) {
        const other = st.m.leaves.find((l) => l !== leaf && !st.m.path(l).some((r) => r.id === f.checkpoint_id)) ?? st.m.leaves.find((l) => l !== leaf);
        if (other != null) {
          $('#pm-cmp-a').value = String(other);
          $('#pm-cmp-b').value = String(leaf);
          await compare();
        }
      }
    } catch (e) {
      if (e.status === 401) { ui.openLogin('Your session ended; log in again to fork.'); }
      err.textContent = `${e.status ? `${e.status} ` : ''}${e.code || 'error'}: ${e.detail || e.message}`;
      err.hidden = false;
      status.textContent = '';
    } finally {
      const b = $('#pm-fork-run');
      if (b) b.disabled = false;
    }
  }

  function wire() {
    $('#pm-diff-go').addEventListener('click', () => showDiff($('#pm-from').value, $('#pm-to').value, $('#pm-diff-result')));
    $('#pm-cmp-go').addEventListener('click', compare);
    $('#pm-fork-run').addEventListener('click', forkAndRun);
    $('#pm-fork-ckpt').addEventListener('change', fillChannels);
    $('#pm-fork-insert').addEventListener('click', () => {
      const ch = $('#pm-fork-chan').value;
      if (!ch) return;
      let up = {};
      try { up = JSON.parse($('#pm-fork-update').value || '{}') || {}; } catch { up = {}; }
      up[ch] = (st.forkState || {})[ch];
      $('#pm-fork-update').value = JSON.stringify(up, null, 2);
    });
    $('#pm-tree').addEventListener('click', (ev) => {
      const c = ev.target.closest('.pm-chip');
      if (!c) return;
      $('#pm-fork-ckpt').value = c.dataset.checkpoint;
      $('#pm-to').value = c.dataset.checkpoint;
      fillChannels();
      ui.toast(`checkpoint #${c.dataset.checkpoint}: set as the fork point and the diff's "to"`);
    });
  }

  (async () => {
    try {
      await load();
      if (st.stopped) return;
      render();
      showDiff($('#pm-from').value, $('#pm-to').value, $('#pm-diff-result'));
    } catch (e) {
      if (!st.stopped) main.innerHTML = `<p class="error">Cannot load the postmortem of ${esc(id)}: ${esc(e.detail || e.message)}</p>`;
    }
  })();
  const view = { key(ev) { if (ev.key === 'i') { location.hash = `#/t/${enc}`; return true; } return false; } };
  return { view, cleanup: () => { st.stopped = true; clearTimeout(st.polling); } };
}
