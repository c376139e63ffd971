// The browser's Notification API, while the tab is open (no service worker,
// no push: the page hears the server's events on its own WebSocket). Never
// clinical content in a notification: it says what kind of thing is waiting
// and where ("Nouveau message dans « Sortie M. … »" is not allowed; "Nouveau
// message" and the thread's position in the list are), since the system may
// show it on a locked screen or over another person's shoulder.
//
//   permissionButton()  a button asking for permission (browsers ask only
//                       from a click); null when already decided
//   notify(title, body, onclick)  shows one when permitted and the page is
//                       hidden; always counts it in <html data-notified>
//                       (read by the tests)
let count = 0;

export function supported() {
  return typeof Notification !== 'undefined';
}

export function permissionButton(h) {
  if (!supported() || Notification.permission !== 'default') return null;
  const b = h('button', { type: 'button', class: 'secondary', text: 'Activer les notifications',
    onclick: async () => {
      await Notification.requestPermission();
      b.remove();
    } });
  return b;
}

export function notify(title, body, onclick = null) {
  count += 1;
  document.documentElement.dataset.notified = String(count);
  if (!supported() || Notification.permission !== 'granted') return null;
  if (document.visibilityState === 'visible' && document.hasFocus()) return null;
  const n = new Notification(title, { body, lang: 'fr', tag: title });
  n.onclick = () => {
    window.focus();
    if (onclick) onclick();
    n.close();
  };
  return n;
}
