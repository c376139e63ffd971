// The logged-in page: a navigation bar (the views of ui/views.js and
// "Verrouiller") above the current view. The view is named in the URL's
// fragment, "#/<view>[/<arg>]", so the browser's back button works; it is
// shown in <html data-view> (and data-view-arg) once rendered, and
// <html data-screen="session"> for the whole logged-in page.
//
// ctx, given to every view's render(ctx, arg):
//   conn    the logged-in Connection (net/client.js): request(), on()
//   record  this browser's device record (store/keystore.js)
//   me      the login reply's {user, device}
//   go(id, arg)  shows another view
//   on(ev, fn)   subscribes to a server event for as long as the view is
//                shown (unsubscribed when another view is rendered)
//
// A view may also have watch(ctx, badge), called once after login (ctx
// without on()): it keeps a count in its navigation link with badge(n)
// (0 hides it) and returns a function that stops it, called on lock.
import { h, show, statusLine } from './dom.js';
import { frenchError } from '../net/errors.js';
import * as session from '../store/session.js';
import { VIEWS, HOME } from './views.js';

let current = null; // {base, body, off: [unsubscribe…], watchOff: [stop…], seq: the latest render}

/** The count in a view's navigation link (<a data-badge>); 0 removes it. */
function badge(id, n) {
  const a = document.querySelector(`nav a[data-view="${id}"]`);
  if (!a) return;
  let b = a.querySelector('.badge');
  if (!n) {
    if (b) b.remove();
    delete a.dataset.badge;
    return;
  }
  if (!b) {
    b = h('span', { class: 'badge' });
    a.append(b);
  }
  b.textContent = String(n);
  a.dataset.badge = String(n);
}

/** Is view v in the navigation bar for user (the login's USER)? */
function inNav(v, user) {
  if (typeof v.nav === 'function') return !!v.nav(user);
  return v.nav !== false;
}

function parseHash() {
  const m = /^#\/([a-z_]+)(?:\/(.*))?$/.exec(window.location.hash || '');
  if (!m) return { id: HOME, arg: null };
  return { id: m[1], arg: m[2] === undefined ? null : decodeURIComponent(m[2]) };
}

function hashOf(id, arg) {
  return `#/${id}${arg === null || arg === undefined ? '' : `/${encodeURIComponent(arg)}`}`;
}

async function render() {
  if (!current) return;
  const { id, arg } = parseHash();
  const view = VIEWS.find((v) => v.id === id) || VIEWS.find((v) => v.id === HOME);
  for (const off of current.off.splice(0)) off();
  const mine = current;
  // a render that a later one overtook (the fragment changed while this
  // view was still loading) is dropped: the last navigation wins, never
  // the slowest view
  mine.seq += 1;
  const token = mine.seq;
  const ctx = {
    ...mine.base,
    on(ev, fn) {
      const off = mine.base.conn.on(ev, fn);
      const drop = typeof off === 'function' ? off : () => {};
      if (mine.seq !== token) drop(); // this view was overtaken: it shows nothing
      else mine.off.push(drop);
    },
  };
  for (const a of document.querySelectorAll('nav a[data-view]')) {
    if (a.dataset.view === view.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  let content;
  try {
    content = await view.render(ctx, arg);
  } catch (e) {
    const status = statusLine();
    status.error(e && e.code ? e.message : frenchError('protocol', String(e && e.message)));
    content = h('section', {}, h('h1', { text: view.label }), status.el);
  }
  if (current !== mine || mine.seq !== token) return; // locked, or overtaken meanwhile
  mine.body.replaceChildren(content);
  document.documentElement.dataset.view = view.id;
  if (arg === null) delete document.documentElement.dataset.viewArg;
  else document.documentElement.dataset.viewArg = arg;
  const heading = mine.body.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

window.addEventListener('hashchange', () => { render(); });

/** Shows the logged-in page for conn (logged in), record and the login reply me. */
export function startShell(conn, record, me) {
  const body = h('div', { id: 'view' });
  const links = VIEWS.filter((v) => inNav(v, me.user)).map((v) => h('li', {},
    h('a', { href: hashOf(v.id), 'data-view': v.id, text: v.label })));
  const lockButton = h('button', { type: 'button', class: 'lock', text: 'Verrouiller',
    onclick: () => session.lock('user') });
  current = {
    body,
    off: [],
    seq: 0,
    base: {
      conn, record, me,
      go(id, arg = null) {
        const next = hashOf(id, arg);
        if (window.location.hash === next) render();
        else window.location.hash = next;
      },
    },
  };
  show('session',
    h('nav', { 'aria-label': 'Navigation principale' },
      h('ul', {}, links),
      h('p', { class: 'who', text: `${me.user.name} · ${me.device.name}` }),
      lockButton),
    body);
  document.getElementById('app').classList.add('wide');
  current.watchOff = VIEWS.filter((v) => typeof v.watch === 'function')
    .map((v) => v.watch(current.base, (n) => badge(v.id, n)))
    .filter((off) => typeof off === 'function');
  render();
}

/** Leaves the logged-in page (on lock): unsubscribes the view's events. */
export function stopShell() {
  if (current) for (const off of current.off.splice(0).concat(current.watchOff || [])) off();
  current = null;
  delete document.documentElement.dataset.view;
  delete document.documentElement.dataset.viewArg;
  const app = document.getElementById('app');
  if (app) app.classList.remove('wide');
}
