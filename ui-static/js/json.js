// json.js: a readable, collapsible view of a JSON value (objects and arrays
// as <details>, the first three levels open).
export function jsonView(value, depth = 0, key = null) {
  const wrap = document.createElement('div');
  if (depth === 0) wrap.className = 'jv';
  const label = key == null ? '' : `<span class="k">${escape(key)}</span>: `;
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    const det = document.createElement('details');
    det.open = depth < 3;
    const sum = document.createElement('summary');
    sum.innerHTML = `${label}<span class="muted">${Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}</span>`;
    det.appendChild(sum);
    for (const [k, v] of entries) det.appendChild(jsonView(v, depth + 1, k));
    wrap.appendChild(det);
  } else {
    const cls = typeof value === 'string' ? 's' : typeof value === 'number' ? 'n' : 'b';
    wrap.className += ' leaf';
    wrap.innerHTML = `${label}<span class="${cls}">${escape(JSON.stringify(value))}</span>`;
  }
  return wrap;
}
function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
