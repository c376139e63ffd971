// the page's one script (same origin): it tries what the CSP must allow
// and what it must refuse; window.probe resolves to what happened (the
// test reads it through the DevTools protocol) and it is also written
// into <pre id="r">
const out = {violations: []};
document.addEventListener('securitypolicyviolation', (e) => {
  out.violations.push(e.effectiveDirective + ' ' + (e.blockedURI || ''));
});
function attempt(name, fn) {
  try { out[name] = String(fn()); } catch (e) { out[name] = 'threw ' + e.name; }
}
const WASM = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0,
  7, 5, 1, 1, 102, 0, 0, 10, 6, 1, 4, 0, 65, 42, 11]);
function wasm() {
  return WebAssembly.instantiate(WASM).then((r) => { out.wasm = String(r.instance.exports.f()); },
    (e) => { out.wasm = 'failed ' + e.name; });
}
function socket() {
  return new Promise((resolve) => {
    let ws;
    try { ws = new WebSocket('wss://' + location.host + '/', 'liaison.v1'); } catch (e) {
      out.ws = 'threw ' + e.name; resolve(); return;
    }
    const timer = setTimeout(() => { out.ws = 'timeout'; resolve(); }, 30000);
    ws.onmessage = (m) => { out.ws = JSON.parse(m.data).ev; clearTimeout(timer); ws.close(); resolve(); };
    ws.onerror = () => { out.ws = 'error'; clearTimeout(timer); resolve(); };
  });
}
function foreign() {
  return fetch('https://cdn.example.invalid/x.js').then(() => { out.fetch = 'loaded'; },
    (e) => { out.fetch = 'failed ' + e.name; });
}
function foreignScript() {
  return new Promise((resolve) => {
    const s = document.createElement('script');
    s.src = 'https://cdn.example.invalid/lib.js';
    s.onload = () => { out.script = 'loaded'; resolve(); };
    s.onerror = () => { out.script = 'failed'; resolve(); };
    document.head.appendChild(s);
  });
}
let done;
window.probe = new Promise((resolve) => { done = resolve; });
window.addEventListener('load', () => {
  attempt('eval', () => eval('6 * 7'));
  attempt('function', () => new Function('return 6 * 7')());
  out.inline = window.inlineRan === true ? 'ran' : 'not run';
  out.handler = window.handlerRan === true ? 'ran' : 'not run';
  Promise.all([wasm(), socket(), foreign(), foreignScript()]).then(() => {
    setTimeout(() => {
      const pre = document.createElement('pre');
      pre.id = 'r';
      pre.textContent = JSON.stringify(out);
      document.body.appendChild(pre);
      done(out);
    }, 200);
  });
});
