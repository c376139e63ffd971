// web_device.mjs — the browser half of test_web_device.py: Debian's Chromium,
// driven by playwright-core, adds itself to an account enrolled with the CLI
// from a device invite and the recovery code: whom the invite is for, a
// malformed and a wrong recovery code refused in French with no frame sent
// to the server, the right code (typed loosely) opening the backup, the
// enrolment, the conversation keys restored into the vault, the logged-in
// page, and unlocking after a reload. Prints one JSON line per check and
// {"values": {...}} last (webdrive.py).
// Usage: node web_device.mjs CONFIG_JSON
import { launch, axe, openView, deviceRecord, deviceFields } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const b = await launch(cfg);
const { values, check, shot, html, screen, field } = b;

const record = deviceRecord;

// the vault's record names, and whether every value is sealed bytes with no clear JSON in it
const vaultNames = (page) => page.evaluate(() => new Promise((resolve, reject) => {
  const req = indexedDB.open('liaison');
  req.onerror = () => reject(req.error);
  req.onsuccess = () => {
    const db = req.result;
    if (!db.objectStoreNames.contains('vault')) { db.close(); resolve({ names: [], sealed: true }); return; }
    const names = [];
    let sealed = true;
    const cur = db.transaction('vault').objectStore('vault').openCursor();
    cur.onsuccess = () => {
      const c = cur.result;
      if (!c) { db.close(); resolve({ names, sealed }); return; }
      names.push(c.key);
      const v = c.value;
      const text = v instanceof Uint8Array ? new TextDecoder().decode(v) : '';
      if (!(v instanceof Uint8Array) || /chain_key|sender_device|"bk"/.test(text)) sealed = false;
      c.continue();
    };
    cur.onerror = () => reject(cur.error);
  };
}));

await b.run(async ({ page, step }) => {
  // every WebSocket frame the page sends, to show that a wrong code sends nothing
  const sent = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));

  if (cfg.phase === 'reset') {
    // an invite after liaisond user reset: the same account, a new identity key
    step('new identity');
    await page.goto(cfg.url);
    await screen('enrol');
    await page.getByLabel('Code d’invitation').fill(cfg.code);
    await page.getByRole('button', { name: 'Vérifier l’invitation' }).click();
    await page.waitForSelector('[data-testid="new-identity"]');
    const note = await page.locator('[data-testid="new-identity"]').textContent();
    check(await field('name') === cfg.expect.name && /nouvelle identité/.test(note)
      && /vérifier de nouveau votre numéro de sécurité/.test(note)
      && await page.locator('[data-testid="recovery-code"]').count() === 0,
    'a new-identity invite (liaisond user reset): whom it is for, what it means, no recovery code asked', note);
    step('enrol new identity');
    await deviceFields(page, cfg.deviceName, cfg.passphrase);
    await page.getByRole('button', { name: 'Inscrire ce navigateur' }).click();
    await screen('session');
    await openView(page, 'account');
    const rec = await record(page);
    const fpr = await field('fingerprint');
    values.added = { user: rec && rec.user, ik: rec && rec.ik_pk.hex, fingerprint: fpr };
    check(await field('name') === cfg.expect.name && await field('device') === cfg.deviceName
      && /^\d{5}( \d{5}){5}$/.test(fpr) && await html('keys') === 'held',
    'enrolled with a new identity and logged in (the server accepted the new identity key)', fpr);
    return;
  }

  step('account without a backup');
  await page.goto(cfg.url);
  await screen('enrol');
  await page.getByLabel('Code d’invitation').fill(cfg.noBackup);
  await page.getByRole('button', { name: 'Vérifier l’invitation' }).click();
  await page.waitForSelector('[data-testid="no-backup"]');
  const nob = await page.locator('[data-testid="no-backup"]').textContent();
  check(/^Ce compte n’a pas de sauvegarde des clés\u00a0: .*liaison backup setup.*\(not_found\)\.$/.test(nob)
    && await page.locator('[data-testid="recovery-code"]').count() === 0 && await record(page) === null,
  'a device invite for an account without a key backup: said plainly (set it up on the other device), nothing asked or stored',
  nob);

  step('device invite');
  await page.getByLabel('Code d’invitation').fill(cfg.code);
  await page.getByRole('button', { name: 'Vérifier l’invitation' }).click();
  await page.waitForSelector('[data-testid="invite-info"]');
  await page.waitForSelector('[data-testid="recovery-code"]');
  const shown = { name: await field('name'), rpps: await field('rpps'), org: await field('org') };
  const hint = await page.locator('#' + await page.getByLabel('Code de récupération')
    .getAttribute('aria-describedby')).textContent();
  const focused = await page.evaluate(() => document.activeElement.dataset.testid || document.activeElement.tagName);
  check(shown.name === cfg.expect.name && shown.rpps === cfg.expect.rpps && shown.org === cfg.expect.org
    && /liaison backup setup/.test(hint) && /14 groupes de 4/.test(hint) && focused === 'recovery-code',
  'a device invite: the page shows whom it is for, asks for the recovery code and says where it comes from',
  `${JSON.stringify(shown)} | ${hint} | focus ${focused}`);
  await shot('web-device-1-recovery');

  step('axe');
  const serious = (await axe(page, cfg.web)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(serious.length === 0, 'axe-core: no serious or critical violation on the recovery step',
    serious.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join(' | ')})`).join('\n'));

  step('labels');
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input')]
    .filter((el) => el.labels.length === 0 || !el.labels[0].textContent.trim()).map((el) => el.name));
  check(unlabelled.length === 0 && await page.locator('input').count() === 2,
    'the recovery step\'s fields (invite, recovery code) have their labels', unlabelled.join(' '));

  step('malformed code');
  const before = sent.length;
  await page.getByLabel('Code de récupération').fill('ABCD-EFGH-1234');
  await page.keyboard.press('Enter');
  const malformed = await b.alert();
  check(/^Ce n’est pas un code de récupération valable\u00a0: .*\(bad_request\)\.$/.test(malformed)
    && sent.length === before,
  'a malformed recovery code is refused in French (bad_request), nothing sent to the server',
  `${malformed} | ${sent.length - before} frames`);

  step('wrong code');
  await page.getByLabel('Code de récupération').fill(cfg.wrong);
  await page.getByRole('button', { name: 'Ouvrir la sauvegarde' }).click();
  await page.waitForFunction(() => /bad_signature/.test(document.querySelector('[role=alert]')?.textContent || ''));
  const wrong = await b.alert();
  check(/^Ce code de récupération n’ouvre pas la sauvegarde des clés de ce compte\u00a0: .*\(bad_signature\)\.$/.test(wrong)
    && sent.length === before && await record(page) === null && await html('keys') === 'none',
  'a well-formed but wrong recovery code is refused in French (bad_signature); nothing sent, nothing stored',
  `${wrong} | ${sent.length - before} frames`);

  step('right code');
  // typed loosely: lower case, spaces for dashes (the lenient parsing)
  await page.getByLabel('Code de récupération').fill(cfg.recovery.toLowerCase().replace(/-/g, ' '));
  await page.getByRole('button', { name: 'Ouvrir la sauvegarde' }).click();
  await page.waitForSelector('[data-testid="backup-opened"]');
  const openedFpr = await page.locator('[data-testid="account-fingerprint"]').textContent();
  await page.waitForSelector('input[name="device-name"]');
  check(/^\d{5}( \d{5}){5}$/.test(openedFpr) && sent.length === before && await record(page) === null,
    'the right code, typed in lower case with spaces, opens the backup in the page and shows the account\'s fingerprint',
    `${openedFpr} | ${sent.length - before} frames`);

  step('add');
  await deviceFields(page, cfg.deviceName, cfg.passphrase);
  await page.getByRole('button', { name: 'Ajouter ce navigateur' }).click();
  await screen('device-added');
  await page.waitForSelector('[data-testid="restored"][data-count]');
  const restored = await page.locator('[data-testid="restored"]').getAttribute('data-count');
  const restoredText = await page.locator('[data-testid="restored"]').textContent();
  const addedFpr = await field('fingerprint');
  check(Number(restored) === cfg.sessions && addedFpr === openedFpr && await html('keys') === 'held'
    && new RegExp(`^${cfg.sessions} clés? de conversation restaurées? depuis votre sauvegarde`).test(restoredText),
  'enrolled and logged in: the backup\'s conversation keys restored (every entry that opens)',
  `${restored} of ${cfg.sessions}: ${restoredText} | ${addedFpr}`);

  step('vault');
  const vault = await vaultNames(page);
  const sessions = vault.names.filter((n) => n.startsWith('backup:session:'));
  values.vault_sessions = sessions;
  check(vault.names.includes('backup:key') && sessions.length === cfg.sessions && vault.sealed
    && sessions.every((n) => /^backup:session:[0-9a-f]{32}:[0-9a-f]{64}$/.test(n)),
  'the vault holds the backup key and one sealed record per restored session (names carry only ids)',
  JSON.stringify(vault));

  step('record');
  const rec = await record(page);
  values.added = { user: rec && rec.user, device: rec && rec.device, ik: rec && rec.ik_pk.hex, fingerprint: addedFpr };
  check(rec && /^[0-9a-f]{32}$/.test(rec.user) && rec.device_name === cfg.deviceName
    && rec.sealed.ik === 24 + 64 + 16 && rec.sealed.dk === 24 + 64 + 16 && rec.sealed.ak === 24 + 32 + 16,
  'IndexedDB holds the new device\'s record: the account\'s user id, its three keys sealed',
  JSON.stringify(rec && { user: rec.user, device_name: rec.device_name, sealed: rec.sealed }));

  step('session');
  await page.getByRole('button', { name: 'Continuer' }).click();
  await screen('session');
  await openView(page, 'account');
  check(await field('name') === cfg.expect.name && await field('device') === cfg.deviceName
    && await field('fingerprint') === addedFpr,
  '"Continuer": the logged-in page, with the account\'s name, this device\'s name and the same fingerprint');

  step('reload');
  await page.reload();
  await screen('unlock');
  await page.getByLabel('Phrase de passe').fill(cfg.passphrase);
  await page.getByRole('button', { name: 'Déverrouiller' }).click();
  await screen('session');
  await openView(page, 'account');
  check(await field('fingerprint') === addedFpr && await html('keys') === 'held',
    'after a reload the new device unlocks with its own passphrase');
});
