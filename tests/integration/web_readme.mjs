// web_readme.mjs — the browser half of test_web_readme.py: README.md's
// "Walk-through: in the browser", its numbered steps done in Debian's
// Chromium as a reader does them, by the labels the README quotes, against
// the liaisond the rest of the README ran: Dr Louis Petit adds this browser
// to his account (device invite + recovery code), reads Mme Lemaire's case
// thread and its discharge notice, writes and sends a file, acknowledges
// the notice under "Mes dossiers", verifies Dr Roux, locks and unlocks.
// Phase "coord" (steps 6 and 7): Léa Moreau, the coordinator, adds another
// browser to her account the same way, reads « Tableau de bord » (the open
// cases, the week's alert, the case's reference and never the patient's
// name), then « Indicateurs »: « Télécharger le CSV » (saved for the Python
// side to compare with `report --csv-fr`) and « Imprimer » (print media).
// Prints one JSON line per check and {"values": {...}} last (webdrive.py).
// Usage: node web_readme.mjs CONFIG_JSON
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { launch, unlock, addDevice, deviceFields } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const b = await launch(cfg);
const { values, check, shot, html, screen, field } = b;

async function coordinator(page, step, text) {
  step('coord: add the browser');
  await page.goto(cfg.url);
  await addDevice(page, cfg);
  await page.getByRole('button', { name: 'Continuer' }).click();
  await screen('session');
  const nav = await page.locator('nav a[data-view]').allTextContents();
  check(await html('keys') === 'held' && nav.includes('Tableau de bord') && nav.includes('Indicateurs'),
    'coordinator: her browser added with the recovery code; « Tableau de bord » and « Indicateurs » in her '
      + 'navigation bar', nav.join(' | '));

  step('6. Tableau de bord');
  await page.getByRole('link', { name: 'Tableau de bord' }).click();
  await page.waitForSelector('html[data-view="dashboard"][data-dashboard-loaded]');
  const open = await page.locator('[data-testid="open-section"] tr[data-pathway="heart_failure"] [data-kind="open"]')
    .getAttribute('data-count').catch(() => null);
  const page6 = await text(page.locator('[data-testid="dashboard"]'));
  check(Number(open) === cfg.expect.openHeartFailure && page6.includes(cfg.ref)
    && !/LEMAIRE|Odette/i.test(page6),
  `6. « Tableau de bord »: ${cfg.expect.openHeartFailure} open heart-failure case(s) as \`cases --all\` says, `
    + 'the case\'s reference, never the patient\'s name', `open=${open} ${page6.slice(0, 400)}`);
  const alerts = await text(page.locator('[data-testid="alerts-section"]'));
  check(alerts.includes(cfg.ref) && alerts.includes('Julie Bernard'),
    '6. « Alertes de la semaine »: Julie Bernard\'s alert on the case', alerts.slice(0, 400));
  await shot('web-walk-4-dashboard');

  step('7. Indicateurs');
  await page.getByRole('link', { name: 'Indicateurs' }).click();
  await page.waitForSelector('section.indicators-view[data-semester]');
  const semester = await page.locator('section.indicators-view').getAttribute('data-semester');
  await page.waitForSelector(`html[data-indicators-charts^="${semester}:"]`);
  const count = await page.locator('article.indicator').count();
  const [dl] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('button', { name: 'Télécharger le CSV' }).click()]);
  const file = path.join(cfg.profile, '..', dl.suggestedFilename());
  await dl.saveAs(file);
  values.csv = readFileSync(file).toString('base64');
  values.semester = semester;
  check(count >= 20 && dl.suggestedFilename() === `indicateurs-${semester}.csv`,
    `7. « Indicateurs »: ${count} indicators of ${semester}; « Télécharger le CSV » saves ${dl.suggestedFilename()}`);
  await page.emulateMedia({ media: 'print' });
  const printed = await page.evaluate(() => ({
    nav: getComputedStyle(document.querySelector('nav')).display,
    buttons: [...document.querySelectorAll('button')].filter((x) => getComputedStyle(x).display !== 'none').length,
  }));
  await page.emulateMedia({ media: 'screen' });
  check(printed.nav === 'none' && printed.buttons === 0,
    '7. « Imprimer »: the printed page has no navigation and no button', JSON.stringify(printed));
  await shot('web-walk-5-indicators');
}

await b.run(async ({ page, step }) => {
  const text = async (loc) => ((await loc.textContent()) || '').replace(/\s+/g, ' ').trim();
  if (cfg.phase === 'coord') {
    await coordinator(page, step, text);
    return;
  }

  // 1. Inscrire ce navigateur
  step('1. invite');
  await page.goto(cfg.url);
  await screen('enrol');
  await page.getByLabel('Code d’invitation').fill(cfg.code);
  await page.getByRole('button', { name: 'Vérifier l’invitation' }).click();
  await page.waitForSelector('[data-testid="invite-info"]');
  await page.waitForSelector('[data-testid="recovery-code"]');
  const info = await text(page.locator('[data-testid="invite-info"]'));
  check(await field('name') === 'Dr Louis Petit' && /cardiologue/i.test(info)
    && await html('keys') === 'none',
  '1. « Vérifier l’invitation »: the page says the invite is for Dr Louis Petit, cardiologue, '
    + 'and asks for his « Code de récupération » before anything is created', info);

  step('1. recovery code');
  await page.getByLabel('Code de récupération').fill(cfg.recovery);
  await page.getByRole('button', { name: 'Ouvrir la sauvegarde' }).click();
  await page.waitForSelector('[data-testid="backup-opened"]');
  await deviceFields(page, cfg.deviceName, cfg.passphrase);
  await page.getByRole('button', { name: 'Ajouter ce navigateur' }).click();
  await screen('device-added');
  await page.waitForSelector('[data-testid="restored"][data-count]');
  const restored = await text(page.locator('[data-testid="restored"]'));
  check(await html('keys') === 'held' && Number(await page.locator('[data-testid="restored"]').getAttribute('data-count')) >= 1,
    '1. the recovery code `backup setup` printed, a device name and a passphrase (twice), '
    + '« Ajouter ce navigateur »: his keys restored from the backup', restored);
  await shot('web-walk-1-added');
  await page.getByRole('button', { name: 'Continuer' }).click();
  await screen('session');
  await b.view('threads');
  check(await text(page.locator('h1').first()) === 'Messages', '1. « Continuer » opens Messages');

  // 2. Messages
  step('2. thread list');
  const item = page.locator(`li.thread-item[data-channel="${cfg.channel}"]`);
  await item.waitFor();
  const itemText = await text(item);
  const caseThreads = await page.locator('li.thread-item', { hasText: 'dossier patient' }).count();
  check(/dossier patient/.test(itemText) && itemText.includes(`Dossier ${cfg.ref} · Insuffisance cardiaque`)
    && caseThreads === 1 && Number(await item.getAttribute('data-unread')) > 0,
  '2. Messages lists his threads with their unread counts; Mme Lemaire\'s case thread is the one marked '
    + '« dossier patient », named « Dossier CASE » and its pathway', `${itemText} (${caseThreads} « dossier patient »)`);
  await item.locator('a').first().click();
  await page.waitForSelector(`html[data-view="thread"][data-view-arg="${cfg.channel}"]`);
  const notice = page.locator('article.msg [data-kind="discharge_notice"]').first();
  await notice.waitFor().catch(async (e) => {
    const arts = await page.locator('article.msg').evaluateAll((els) => els.slice(0, 6)
      .map((a) => `${a.dataset.seq} ${a.dataset.status} ${a.textContent.slice(0, 160)}`));
    throw new Error(`${e.message}\nfirst messages:\n${arts.join('\n')}`);
  });
  const noticeText = await text(notice);
  check(/LEMAIRE/.test(noticeText) && /Odette/.test(noticeText) && new RegExp(cfg.ref).test(noticeText),
    '2. the case thread shows the discharge notice, decrypted in the page', noticeText.slice(0, 300));
  // the notice at the top of the message list (which draws what it shows)
  await notice.evaluate((el) => el.closest('article').scrollIntoView({ block: 'start' }));
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(500);
  await shot('web-walk-2-thread');

  step('2. send');
  await page.getByLabel('Votre message').fill(cfg.message);
  await page.getByRole('button', { name: 'Envoyer' }).click();
  const mine = page.locator('article.msg.mine', { hasText: cfg.message });
  await mine.waitFor();
  check(await page.getByLabel('Votre message').inputValue() === '',
    '2. « Votre message », « Envoyer »: the message is in the thread, the box emptied');

  step('2. file');
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByRole('button', { name: 'Joindre un fichier' }).click(),
  ]);
  await chooser.setFiles({ name: cfg.file.name, mimeType: 'text/plain', buffer: Buffer.from(cfg.file.text) });
  const up = await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="attach-control"] .status');
    return el && /(envoyé \(.*\)|\([a-z_]+\))\.$/.test(el.textContent) ? el.textContent : null;
  }, null, { timeout: 120000 }).then((r) => r.jsonValue());
  const entry = page.locator('[data-testid="messages"] .file-msg', { hasText: cfg.file.name });
  await entry.first().waitFor();
  check(/envoyé/.test(up), '2. « Joindre un fichier » sends a small document, encrypted in the browser', up);

  // 3. Mes dossiers
  step('3. cases');
  await page.getByRole('link', { name: 'Mes dossiers' }).click();
  await b.view('cases');
  const row = page.locator(`tr[data-ref="${cfg.ref}"]`);
  await row.waitFor();
  const rowText = await text(row);
  await row.getByRole('link', { name: cfg.ref }).click();
  await page.waitForSelector('html[data-view="case"]');
  await page.waitForSelector('[data-testid="notice-content"][data-state="ok"]');
  const patient = await text(page.locator('dd[data-field="patient"]').first());
  check(/lemaire/i.test(patient), '3. « Mes dossiers » lists his case; opening it shows Mme Lemaire\'s notice, decrypted',
    `${rowText} | ${patient}`);
  const ackBefore = await page.locator('[data-testid="ack-count"]').getAttribute('data-acknowledged');
  await page.getByRole('button', { name: 'Accuser réception' }).click();
  await page.waitForSelector('[data-testid="acked"]');
  const ackAfter = await page.locator('[data-testid="ack-count"]').getAttribute('data-acknowledged');
  const timeline = await page.locator('ol.timeline li').count();
  check(Number(ackAfter) === Number(ackBefore) + 1 && timeline > 0,
    '3. the case shows its timeline and the notice; « Accuser réception » records his acknowledgement',
    `acknowledged ${ackBefore} → ${ackAfter}; ${timeline} steps`);
  await shot('web-walk-3-case');

  // 4. Vérifier un collègue
  step('4. verify');
  await page.getByRole('link', { name: 'Vérifier un collègue' }).click();
  await b.view('verify');
  await page.getByLabel('Nom ou numéro RPPS').fill('Roux');
  await page.keyboard.press('Enter');
  const link = page.locator('[data-testid="verify-results"] a', { hasText: 'Hélène Roux' });
  await link.first().waitFor();
  await link.first().click();
  await page.waitForSelector('html[data-view="verify"][data-view-arg]:not([data-view-arg=""])');
  await page.waitForSelector('[data-testid="pin-state"]');
  const digits = (await text(page.locator('[data-testid="safety-number"]'))).replace(/\D/g, '');
  values.number = digits;
  check(digits.length === 60 && digits === cfg.number,
    '4. search « Roux »: the 60 digits are those `liaison --profile doctor verify "Louis Petit"` prints',
    `page ${digits}\nCLI  ${cfg.number}`);
  await page.getByRole('button', { name: 'Les numéros sont identiques' }).click();
  await page.waitForSelector('[data-testid="pin-state"][data-state="verified"]', { timeout: 15000 }).catch(() => {});
  const pin = page.locator('[data-testid="pin-state"]');
  check(await pin.getAttribute('data-state') === 'verified',
    '4. « Les numéros sont identiques »: Dr Roux is marked verified', await text(pin));

  // 5. Verrouiller, Déverrouiller
  step('5. lock');
  await page.getByRole('button', { name: 'Verrouiller' }).click();
  await screen('unlock');
  const lockedKeys = await html('keys');
  await unlock(page, cfg.passphrase);
  check(lockedKeys === 'none' && await html('keys') === 'held',
    '5. « Verrouiller » wipes his keys from the page; « Déverrouiller » asks for the passphrase and unlocks',
    `locked: ${lockedKeys}`);
});
