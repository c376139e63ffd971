// Plain DOM helpers: elements built with textContent only (never innerHTML),
// so nothing the server or the user sends can become markup or script.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let fieldSeq = 0;
/** A labelled field: <label for=id>text</label><input id=id ...>, with an optional hint. */
export function field(label, attrs = {}, hint = null) {
  const id = attrs.id || `f${++fieldSeq}`;
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', { ...attrs, id, 'aria-describedby': hintId });
  return {
    input,
    el: h('p', { class: 'field' }, h('label', { for: id, text: label }), input,
      hint ? h('small', { id: hintId, text: hint }) : null),
  };
}

/** A definition list of [term, value] pairs; empty values shown as a dash. */
export function facts(pairs, attrs = {}) {
  return h('dl', attrs, pairs.flatMap(([k, v, data]) => [
    h('dt', { text: k }),
    h('dd', { text: v === null || v === undefined || v === '' ? '—' : String(v), dataset: data }),
  ]));
}

/** Replaces the page's main content and moves the focus to its heading. */
export function show(screen, ...children) {
  const main = document.getElementById('app');
  main.replaceChildren(...children);
  document.documentElement.dataset.screen = screen;
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

/** A live region for status and errors (role=alert for errors). */
export function statusLine() {
  const el = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  return {
    el,
    info(text) {
      el.className = 'status';
      el.setAttribute('role', 'status');
      el.textContent = text;
    },
    error(text) {
      el.className = 'status error';
      el.setAttribute('role', 'alert');
      el.textContent = text;
    },
    clear() {
      el.textContent = '';
    },
  };
}

/**
 * fn (async) run one call at a time: a call while it runs returns that run
 * and asks for one more after it (any number of such calls make one more
 * run), so a view reloads once for a burst of events, never concurrently.
 */
export function serial(fn) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) { again = true; return running; }
    running = fn();
    try {
      await running;
    } finally {
      running = null;
    }
    if (again) { again = false; await run(); }
    return null;
  };
  return run;
}

/** Lets the browser paint (a status line) before a blocking computation (Argon2id). */
export function paint() {
  return new Promise((r) => setTimeout(r, 30));
}
