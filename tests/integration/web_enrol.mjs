// web_enrol.mjs — the browser half of test_web_enrol.py: Debian's Chromium,
// driven by playwright-core (web/node_modules), enrols in the page a real
// liaisond serves, reloads, unlocks, is refused a wrong passphrase, locks,
// and locks itself when idle (playwright's fake clock); later phases on the
// same browser profile: a server that swaps the identity key, a revocation
// while unlocked, an altered sealed key. Prints one JSON line
// per check ({"check": name, "ok": bool, "detail": text}) and a last line
// {"values": {...}} for the Python side, which turns them into TAP.
// Usage: node web_enrol.mjs CONFIG_JSON
import { execFileSync } from 'node:child_process';
import { launch, openView, deviceRecord } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const b = await launch(cfg);
const { values, check, shot, html, screen, field } = b;

await b.run(async ({ page, step }) => {
  const record = () => deviceRecord(page);

  if (cfg.phase === 'tamper-ik') {
    // the server's database now gives this user another identity key
    step('tampered server');
    await page.goto(cfg.url);
    await screen('unlock');
    await page.getByLabel('Phrase de passe').fill(cfg.passphrase);
    await page.getByRole('button', { name: 'Déverrouiller' }).click();
    await page.waitForSelector('[role=alert]');
    await page.waitForFunction(() => !document.querySelector('button[type=submit]').disabled);
    const swapped = await page.getByRole('alert').textContent();
    check(/ne sont pas celles de ce navigateur/.test(swapped) && await html('screen') === 'unlock'
      && await html('keys') === 'none',
    'a server that presents another identity key for this account is refused, keys wiped', swapped);
    return;
  }

  if (cfg.phase === 'revoke') {
    // the identity key is back; an administrator revokes the device while
    // the page is unlocked
    step('revoked while unlocked');
    await page.goto(cfg.url);
    await screen('unlock');
    await page.getByLabel('Phrase de passe').fill(cfg.passphrase);
    await page.getByRole('button', { name: 'Déverrouiller' }).click();
    await screen('session');
    const before = await html('keys');
    execFileSync(cfg.revoke[0], cfg.revoke.slice(1), { stdio: 'ignore', timeout: 60000 });
    await screen('unlock');
    const note = await page.locator('.notice').textContent();
    check(before === 'held' && await html('keys') === 'none' && /révoqué.*\(device_revoked\)/.test(note),
      'revoked by the administrator while unlocked: the server closes, the page wipes the keys and says why',
      `${before} | ${note}`);
    step('login of a revoked device');
    await page.getByLabel('Phrase de passe').fill(cfg.passphrase);
    await page.getByRole('button', { name: 'Déverrouiller' }).click();
    await page.waitForSelector('[role=alert]');
    const refused = await page.getByRole('alert').textContent();
    check(/\(device_revoked\)/.test(refused) && await html('keys') === 'none',
      'unlocking a revoked device: the server\'s device_revoked, in French, keys wiped', refused);

    // the stored record altered (one bit of the sealed device key)
    step('tampered record');
    await page.evaluate(() => new Promise((resolve, reject) => {
      const req = indexedDB.open('liaison');
      req.onsuccess = () => {
        const t = req.result.transaction('device', 'readwrite');
        const st = t.objectStore('device');
        const g = st.get('this-device');
        g.onsuccess = () => {
          const r = g.result;
          r.sealed.dk[40] ^= 1;
          st.put(r, 'this-device');
        };
        t.oncomplete = () => { req.result.close(); resolve(); };
        t.onerror = () => reject(t.error);
      };
      req.onerror = () => reject(req.error);
    }));
    await page.reload();
    await screen('unlock');
    await page.getByLabel('Phrase de passe').fill(cfg.passphrase);
    await page.getByRole('button', { name: 'Déverrouiller' }).click();
    await page.waitForSelector('[role=alert]');
    const altered = await page.getByRole('alert').textContent();
    check(/\(bad_passphrase\)/.test(altered) && await html('keys') === 'none',
      'an altered sealed key does not open, even with the right passphrase', altered);
    return;
  }

  step('first visit');
  const resp = await page.goto(cfg.url);
  const csp = resp.headers()['content-security-policy'] || '';
  check(/script-src 'self' 'wasm-unsafe-eval';/.test(csp) && !/unsafe-inline|'unsafe-eval'/.test(csp),
    'the page comes with the strict CSP (no inline script, no eval)', csp);
  const body = await resp.text();
  const scripts = [...body.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
  check(scripts.length === 1 && scripts.every((m) => /\bsrc="\/assets\/main-[A-Z0-9]+\.js"/.test(m[0]) && m[1].trim() === '')
    && !/\son[a-z]+=/.test(body) && !/<style/.test(body) && !/\sstyle=/.test(body),
  'index.html: one external module script, no inline script, handler or style', `${scripts.length} scripts`);
  await screen('enrol');
  check(await html('keys') === 'none' && await html('crypto') === 'ready', 'first visit: "Inscrire ce navigateur", no keys held',
    `keys=${await html('keys')} crypto=${await html('crypto')}`);
  await shot('web-enrol-1-invite');

  step('unknown invite');
  await page.getByLabel('Code d’invitation').fill('ABCD');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[role=alert]');
  const malformed = await page.getByRole('alert').textContent();
  await page.getByLabel('Code d’invitation').fill('0000-0000-0000-0000-0000-0000');
  await page.getByRole('button', { name: 'Vérifier l’invitation' }).click();
  await page.waitForFunction(() => /invite_unknown/.test(document.querySelector('[role=alert]')?.textContent || ''));
  const unknown = await page.getByRole('alert').textContent();
  check(/24 lettres et chiffres/.test(malformed) && /^Ce code d’invitation est inconnu de ce serveur\u00a0: .*\(invite_unknown\)\.$/.test(unknown),
    'a malformed code is refused in the page; an unknown one gets the server\'s invite_unknown, in French',
    `${malformed} | ${unknown}`);

  step('invite_info');
  await page.getByLabel('Code d’invitation').fill(cfg.code.toLowerCase().replace(/-/g, ' '));
  await page.getByRole('button', { name: 'Vérifier l’invitation' }).click();
  await page.waitForSelector('[data-testid="invite-info"]');
  const shown = { name: await field('name'), rpps: await field('rpps'), org: await field('org'),
    profession: await field('profession') };
  values.invite_shown = shown;
  check(shown.name === cfg.expect.name && shown.rpps === cfg.expect.rpps && shown.org === cfg.expect.org,
    'invite_info: the page shows whom the invite is for (name, RPPS, organisation)', JSON.stringify(shown));
  check(await record() === null && await html('keys') === 'none', 'nothing is created before the person confirms');
  await shot('web-enrol-2-who');

  step('labels');
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.labels.length === 0 || !el.labels[0].textContent.trim()).map((el) => el.outerHTML));
  const fields = await page.locator('input').count();
  check(fields === 4 && unlabelled.length === 0, 'every field of the enrolment screen has its label',
    `${fields} fields; unlabelled: ${unlabelled.join(' ')}`);

  step('passphrase rules');
  await page.getByLabel('Nom de cet appareil').fill(cfg.deviceName);
  await page.getByLabel('Phrase de passe', { exact: true }).fill('court');
  await page.getByLabel('Phrase de passe, encore une fois').fill('court');
  await page.getByRole('button', { name: 'Inscrire ce navigateur' }).click();
  const short = await page.getByRole('alert').textContent();
  await page.getByLabel('Phrase de passe', { exact: true }).fill('é'.repeat(513)); // 1026 bytes
  await page.getByLabel('Phrase de passe, encore une fois').fill('é'.repeat(513));
  await page.getByRole('button', { name: 'Inscrire ce navigateur' }).click();
  await page.waitForFunction(() => /trop longue/.test(document.querySelector('[role=alert]')?.textContent || ''));
  const long = await page.getByRole('alert').textContent();
  await page.getByLabel('Phrase de passe', { exact: true }).fill(cfg.passphrase);
  await page.getByLabel('Phrase de passe, encore une fois').fill(cfg.passphrase + 'x');
  await page.getByRole('button', { name: 'Inscrire ce navigateur' }).click();
  await page.waitForFunction(() => /diffèrent/.test(document.querySelector('[role=alert]')?.textContent || ''));
  const differ = await page.getByRole('alert').textContent();
  check(/au moins 8 caractères/.test(short) && /1024 octets au plus/.test(long) && /diffèrent/.test(differ)
    && await record() === null,
  'a passphrase under 8 characters or over 1024 bytes (as the CLI), or typed differently twice, is refused before anything is created',
  `${short} | ${long} | ${differ}`);

  step('enrol');
  await page.getByLabel('Phrase de passe, encore une fois').fill(cfg.passphrase);
  await page.getByRole('button', { name: 'Inscrire ce navigateur' }).click();
  await screen('session');
  await openView(page, 'account');
  const who = { name: await field('name'), rpps: await field('rpps'), org: await field('org'),
    device: await field('device'), fingerprint: await field('fingerprint'),
    user: await page.locator('[data-testid="whoami"]').getAttribute('data-user') };
  values.enrolled = who;
  check(who.name === cfg.expect.name && who.rpps === cfg.expect.rpps && who.device === cfg.deviceName
    && /^\d{5}( \d{5}){5}$/.test(who.fingerprint) && await html('keys') === 'held',
  'enrolled and logged in: name, RPPS, device and fingerprint shown, keys held', JSON.stringify(who));
  await shot('web-enrol-3-session');

  step('stored record');
  const rec = await record();
  values.record = rec && { user: rec.user, device: rec.device, server: rec.server };
  check(rec && rec.user === who.user && rec.salt.bytes === 16 && rec.sealed.ik === 24 + 64 + 16
    && rec.sealed.dk === 24 + 64 + 16 && rec.sealed.ak === 24 + 32 + 16
    && !JSON.stringify(rec).includes(Buffer.from(cfg.passphrase).toString('hex'))
    && !JSON.stringify(rec).includes(cfg.passphrase),
  'IndexedDB holds the salt and the three keys sealed (nonce, key, tag), never the passphrase',
  JSON.stringify(rec && { salt: rec.salt, sealed: rec.sealed }));

  step('reload');
  await page.reload();
  await screen('unlock');
  check(await html('keys') === 'none', 'after a reload: "Déverrouiller", no keys held');
  await shot('web-enrol-4-unlock');

  step('wrong passphrase');
  await page.getByLabel('Phrase de passe').fill(cfg.passphrase + '!');
  await page.getByRole('button', { name: 'Déverrouiller' }).click();
  await page.waitForSelector('[role=alert]');
  const wrong = await page.getByRole('alert').textContent();
  check(/Phrase de passe incorrecte/.test(wrong) && /\(bad_passphrase\)/.test(wrong)
    && await html('screen') === 'unlock' && await html('keys') === 'none',
  'a wrong passphrase is refused plainly, nothing unlocked', wrong);

  step('unlock with the keyboard');
  // keyboard only: from the focused heading, Tab to the field, type, Entrée
  await page.reload();
  await screen('unlock');
  const focused0 = await page.evaluate(() => document.activeElement.tagName);
  await page.keyboard.press('Tab');
  const focused1 = await page.evaluate(() => document.activeElement.getAttribute('autocomplete'));
  await page.keyboard.type(cfg.passphrase);
  await page.keyboard.press('Enter');
  await screen('session');
  await openView(page, 'account');
  check(focused0 === 'H1' && focused1 === 'current-password',
    'keyboard: the screen\'s heading has the focus, Tab reaches the passphrase, Entrée unlocks',
    `${focused0} then ${focused1}`);
  check(await field('name') === cfg.expect.name && await field('fingerprint') === who.fingerprint
    && await html('keys') === 'held', 'the right passphrase unlocks and logs in again (same fingerprint)');

  step('lock');
  await page.getByRole('button', { name: 'Verrouiller' }).click();
  await screen('unlock');
  const lockedNote = await page.locator('.notice').textContent();
  check(await html('keys') === 'none' && /Verrouillé/.test(lockedNote),
    '"Verrouiller" wipes the keys and shows "Déverrouiller"', lockedNote);

  step('idle');
  await page.clock.install();
  await page.reload();
  await screen('unlock');
  await page.getByLabel('Phrase de passe').fill(cfg.passphrase);
  await page.getByRole('button', { name: 'Déverrouiller' }).click();
  await screen('session');
  await page.clock.runFor('14:00');
  const stillHeld = await html('keys');
  await page.clock.runFor('01:01');
  // read at once: the lock is synchronous, and the fake clock keeps running
  // in real time while the test waits, so a later read could pass late
  const afterIdle = await html('keys');
  await screen('unlock');
  const idleNote = await page.locator('.notice').textContent();
  check(stillHeld === 'held' && afterIdle === 'none' && /sans activité/.test(idleNote),
    'idle: keys still held at 14 min, wiped after 15 min without activity', `${stillHeld} | ${idleNote}`);
});
