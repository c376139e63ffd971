// Entry point of the page liaisond serves at /. No screen is built yet: it
// loads the cryptography (so the served bundle and the Content-Security-Policy
// are exercised together) and says that the browser client is not available.
import { ready } from './crypto/index.js';

ready().then(
  () => {
    document.documentElement.dataset.crypto = 'ready';
  },
  () => {
    document.documentElement.dataset.crypto = 'failed';
  },
);
