// graph.js: the graph diagram as a small SVG, drawn from the Mermaid text of
// GET /api/graphs (nodes and edges) with a layered layout computed here:
// back edges (found by a depth-first walk from START) are set aside, every
// node's layer is its longest path from START over the others, and the nodes
// of a layer sit side by side. Back edges are drawn as curves on the right.

const SVGNS = 'http://www.w3.org/2000/svg';

// parseMermaid: {nodes: Map id -> {id, label, kind}, edges: [{from, to, cond, label}]}
export function parseMermaid(text) {
  const nodes = new Map();
  const edges = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m;
    if ((m = line.match(/^(\w+)\s*(-->|-\.->|-\.\s*(.*?)\s*\.->)\s*(\w+)$/))) {
      edges.push({ from: m[1], to: m[4], cond: m[2] !== '-->', label: m[3] || '' });
    } else if ((m = line.match(/^(\w+)\(\[(.*)\]\)$/))) {
      nodes.set(m[1], { id: m[1], label: m[2], kind: 'term' });
    } else if ((m = line.match(/^(\w+)\(\("(.*)"\)\)/))) {
      nodes.set(m[1], { id: m[1], label: '', kind: 'join' });
    } else if ((m = line.match(/^(\w+)\["(.*)"\]$/))) {
      nodes.set(m[1], { id: m[1], label: m[2], kind: 'node' });
    }
  }
  for (const e of edges) {
    for (const id of [e.from, e.to]) if (!nodes.has(id)) nodes.set(id, { id, label: id, kind: 'node' });
  }
  return { nodes, edges };
}

export function layout({ nodes, edges }) {
  const out = new Map([...nodes.keys()].map((k) => [k, []]));
  edges.forEach((e, i) => out.get(e.from).push(i));
  const back = new Set();
  const state = new Map(); // 1 on the stack, 2 done
  const start = nodes.has('__start__') ? '__start__' : [...nodes.keys()][0];
  const dfs = (n) => {
    state.set(n, 1);
    for (const i of out.get(n)) {
      const t = edges[i].to;
      if (state.get(t) === 1) back.add(i);
      else if (!state.get(t)) dfs(t);
    }
    state.set(n, 2);
  };
  if (start) dfs(start);
  for (const n of nodes.keys()) if (!state.get(n)) dfs(n);
  // longest path over forward edges (a DAG now), by relaxation
  const layer = new Map([...nodes.keys()].map((k) => [k, 0]));
  for (let pass = 0; pass < nodes.size; pass++) {
    let changed = false;
    edges.forEach((e, i) => {
      if (back.has(i) || e.from === e.to) return;
      if (layer.get(e.to) < layer.get(e.from) + 1) { layer.set(e.to, layer.get(e.from) + 1); changed = true; }
    });
    if (!changed) break;
  }
  const rows = [];
  for (const [id, l] of layer) (rows[l] = rows[l] || []).push(id);
  return { layer, rows, back };
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// render: an <svg> of the graph. `current` is the node name to highlight,
// `done` a Set of node names that ran.
export function render(mermaid, { current = null, done = new Set() } = {}) {
  const g = parseMermaid(mermaid);
  const { rows, back } = layout(g);
  const W = 150, H = 24, VG = 14, HG = 12, PAD = 8, RIGHT = 40;
  const widest = Math.max(1, ...rows.map((r) => (r ? r.length : 0)));
  const width = PAD * 2 + widest * W + (widest - 1) * HG + RIGHT;
  const height = PAD * 2 + rows.length * H + (rows.length - 1) * VG;
  const pos = new Map();
  rows.forEach((r, li) => {
    if (!r) return;
    const rw = r.length * W + (r.length - 1) * HG;
    const x0 = PAD + ((width - RIGHT - PAD * 2) - rw) / 2;
    r.forEach((id, i) => pos.set(id, { x: x0 + i * (W + HG), y: PAD + li * (H + VG) }));
  });
  const svg = el('svg', { class: 'graph', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-label': `graph diagram${current ? `, current node ${current}` : ''}` });
  const defs = el('defs', {}, svg);
  const mk = el('marker', { id: 'arr', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
  el('path', { d: 'M0,0 L8,4 L0,8 z' }, mk);
  g.edges.forEach((e, i) => {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) return;
    let d;
    if (e.from === e.to) {
      const x = a.x + W, y = a.y + H / 2;
      d = `M${x},${y - 6} C${x + 22},${y - 18} ${x + 22},${y + 18} ${x},${y + 6}`;
    } else if (back.has(i) || b.y <= a.y) {
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x + W, y2 = b.y + H / 2;
      const bulge = Math.max(x1, x2) + 18 + (Math.abs(y1 - y2) / (H + VG)) * 3;
      d = `M${x1},${y1} C${bulge},${y1} ${bulge},${y2} ${x2},${y2}`;
    } else {
      const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y;
      const my = (y1 + y2) / 2;
      d = `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}`;
    }
    el('path', { d, class: `e${e.cond ? ' cond' : ''}`, 'marker-end': 'url(#arr)', 'data-from': e.from, 'data-to': e.to }, svg);
  });
  for (const [id, n] of g.nodes) {
    const p = pos.get(id);
    if (!p) continue;
    const name = n.kind === 'node' ? n.label : id;
    const cls = ['n', n.kind === 'node' ? '' : 'term', name === current ? 'current' : '', done.has(name) ? 'done' : '']
      .filter(Boolean).join(' ');
    const grp = el('g', { class: cls, 'data-node': name }, svg);
    if (n.kind === 'join') {
      el('rect', { x: p.x + W / 2 - 6, y: p.y + H / 2 - 6, width: 12, height: 12, rx: 6 }, grp);
      continue;
    }
    el('rect', { x: p.x, y: p.y, width: W, height: H, rx: n.kind === 'term' ? H / 2 : 5 }, grp);
    const t = el('text', { x: p.x + W / 2, y: p.y + H / 2 + 4, 'text-anchor': 'middle' }, grp);
    t.textContent = n.label.length > 22 ? n.label.slice(0, 21) + '…' : n.label;
    el('title', {}, grp).textContent = name;
  }
  return svg;
}
