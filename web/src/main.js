// Entry point of the page liaisond serves at /: loads the cryptography
// (<html data-crypto="ready|failed">), then shows the first screen
// (ui/screens.js): enrol this browser, or unlock it.
import { ready } from './crypto/index.js';
import { start } from './ui/screens.js';

ready().then(
  () => {
    document.documentElement.dataset.crypto = 'ready';
    return start();
  },
  () => {
    document.documentElement.dataset.crypto = 'failed';
    const p = document.getElementById('app-status');
    if (p) p.textContent = 'Ce navigateur ne peut pas charger la cryptographie de Liaison (WebAssembly)\u00a0: ' +
      'utilisez une version récente de Chromium, Firefox ou Edge.';
  },
);
