// web_attach.mjs — the browser half of test_web_attach.py: attachments in
// Chromium against a real liaisond, through the thread view as a user works
// it (the composer's "Joindre un fichier" file picker, "Télécharger",
// "Annuler l’envoi"), the downloads read through playwright's download
// event. Phases:
//   enrol  enrol from the invite (the CLI then adds the user to a thread
//          and sends a file into it with `liaison send --attach`)
//   main   in the thread: the CLI's file downloaded with the same bytes; a
//          20 MiB upload with its progress, sent as a "file" message and
//          downloaded back with the same bytes (both timed); 50 MiB + 1
//          byte refused before any request; a cancelled upload; a chunk of
//          the CLI's file altered in the server's database refused, nothing
//          saved.
// Prints one JSON line per check and {"values": {...}} (timings, ids).
// Usage: node web_attach.mjs CONFIG_JSON
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { launch, enrol, unlock, openView, axe, overflow } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const b = await launch(cfg);
const { values, check, shot } = b;

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

await b.run(async ({ page, step }) => {
  // every request frame the page sends, by op (the protocol's JSON text frames)
  const sent = {};
  page.on('websocket', (ws) => ws.on('framesent', (f) => {
    try {
      const op = JSON.parse(f.payload).op;
      if (op) sent[op] = (sent[op] || 0) + 1;
    } catch { /* not JSON */ }
  }));
  let downloads = 0;
  page.on('download', () => { downloads++; });

  if (cfg.phase === 'enrol') {
    step('enrol');
    await page.goto(cfg.url);
    await enrol(page, cfg.code, cfg.passphrase, 'Navigateur du service');
    await openView(page, 'account');
    values.user = await page.locator('[data-testid="whoami"]').getAttribute('data-user');
    check(/^[0-9a-f]{32}$/.test(values.user || ''), 'the browser is enrolled', values.user);
    return;
  }

  step('unlock and open the thread');
  await page.goto(cfg.url);
  await unlock(page, cfg.passphrase);
  await openView(page, 'thread', cfg.channel);
  const fileMsg = (id) => page.locator(`[data-testid="messages"] .file-msg[data-attachment="${id}"]`);
  const cliEntry = fileMsg(cfg.cliContent.attachment);
  await cliEntry.waitFor();
  const cliLine = await cliEntry.textContent();
  check(cliLine.includes('lettre de liaison.pdf') && cliLine.includes('3\u00a0Mo') && cliLine.includes('Lettre de liaison jointe')
    && await page.locator('form.composer').getByRole('button', { name: 'Joindre un fichier' }).isVisible(),
  'the thread shows the CLI\'s file (caption, name, size in French units) and the composer has "Joindre un fichier"',
  cliLine);

  step('the CLI\'s file');
  let [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 120000 }),
    cliEntry.getByRole('button', { name: 'Télécharger' }).click(),
  ]);
  let got = readFileSync(await download.path());
  check(download.suggestedFilename() === cfg.cliContent.name && sha256(got) === cfg.cliSha256,
    'a file sent by the CLI (liaison send --attach) is downloaded from the thread with the same bytes',
    `${download.suggestedFilename()} ${got.length} bytes`);

  // the progress bar's percentages as the page shows them
  const watchPercent = () => page.evaluate(() => {
    window.seenPercent = [];
    const obs = new MutationObserver(() => {
      for (const el of document.querySelectorAll('.attach-progress:not([hidden])')) {
        const bar = el.querySelector('progress');
        const text = el.querySelector('.attach-pct').textContent;
        window.seenPercent.push(`${bar.value}|${text}`);
      }
    });
    obs.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    window.stopPercent = () => obs.disconnect();
  });
  const seenPercent = () => page.evaluate(() => { window.stopPercent(); return window.seenPercent; });
  const pick = async (path, buttonName = 'Joindre un fichier') => {
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByRole('button', { name: buttonName }).click(),
    ]);
    await chooser.setFiles(path);
  };

  step('20 MiB upload');
  await watchPercent();
  const before = { ...sent };
  let t0 = Date.now();
  await pick(cfg.big);
  await page.waitForSelector('[data-testid="attach-control"] .attach-progress:not([hidden])');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="attach-control"] .attach-progress')
    .dataset.percent) >= 30);
  await shot('web-attach-1-upload');
  // the control's status ends as "… envoyé (20 Mo)." or as an error "… (code)."
  const uploaded = () => page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="attach-control"] .status');
    return el && /(envoyé \(.*\)|\([a-z_]+\))\.$/.test(el.textContent) ? el.textContent : null;
  }, null, { timeout: 180000 }).then((r) => r.jsonValue());
  const upText = await uploaded();
  values.upload_ms = Date.now() - t0;
  check(/envoyé/.test(upText), 'a 20 MiB file chosen with "Joindre un fichier" is encrypted and uploaded', upText);
  let seen = await seenPercent();
  const mid = seen.filter((s) => { const p = Number(s.split('|')[0]); return p > 0 && p < 100; });
  check(mid.length >= 3 && seen.includes('100|100\u00a0%'),
    'a 20 MiB upload shows its progress (bar and percentage) during the transfer and reaches 100 %',
    `${mid.length} intermediate values, last ${seen.slice(-3).join(', ')}`);
  const puts = (sent.attachment_put || 0) - (before.attachment_put || 0);
  check(puts === 320 && (sent.attachment_begin || 0) - (before.attachment_begin || 0) === 1
    && (sent.attachment_finish || 0) - (before.attachment_finish || 0) === 1,
  'the upload is one attachment_begin, 320 chunks of 64 KiB, one attachment_finish',
  JSON.stringify(sent));
  const entry = page.locator('[data-testid="messages"] .file-msg', { hasText: 'cr-hospitalisation.pdf' }).first();
  await entry.waitFor();
  const line = await entry.locator('.file-line').textContent();
  values.browser_attachment = await entry.getAttribute('data-attachment');
  check(line.includes('cr-hospitalisation.pdf') && line.includes('20\u00a0Mo'),
    'its "file" message is sent and shown in the thread with its name and its size in French units', line);

  step('download it back');
  await watchPercent();
  t0 = Date.now();
  [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 180000 }),
    entry.getByRole('button', { name: 'Télécharger' }).click(),
  ]);
  values.download_ms = Date.now() - t0;
  got = readFileSync(await download.path());
  seen = await seenPercent();
  check(download.suggestedFilename() === 'cr-hospitalisation.pdf' && sha256(got) === cfg.bigSha256,
    'downloaded back through a blob: link under the page\'s CSP: the same 20 MiB, byte for byte',
    `${download.suggestedFilename()} ${got.length} bytes sha256 ${sha256(got)}`);
  check(seen.some((s) => { const p = Number(s.split('|')[0]); return p > 0 && p < 100; })
    && seen.includes('100|100\u00a0%') && /vérifié et enregistré/.test(await entry.locator('.status').textContent()),
  'the download shows its progress, reaches 100 % and says the file was checked', seen.slice(-2).join(', '));
  await shot('web-attach-2-downloaded');

  step('axe and the tablet');
  const violations = (await axe(page, cfg.web)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  await page.setViewportSize({ width: 768, height: 1024 });
  const over = await overflow(page);
  await page.setViewportSize({ width: 1366, height: 768 });
  check(violations.length === 0 && over.length === 0,
    'axe-core: no serious violation in the thread with its file messages and the attach control; ' +
    'nothing overflows at 768×1024', JSON.stringify({ violations, over }));

  step('50 MiB + 1 byte');
  const begins = sent.attachment_begin || 0;
  await pick(cfg.huge);
  const refusal = await b.alert();
  check(/50\u00a0Mo/.test(refusal) && /\(too_large\)/.test(refusal) && (sent.attachment_begin || 0) === begins
    && (sent.attachment_put || 0) === (before.attachment_put || 0) + 320,
  'a file of 50 MiB + 1 byte is refused in French before any request', `${refusal} | ${JSON.stringify(sent)}`);
  await shot('web-attach-3-too-large');

  step('cancel an upload');
  const finishes = sent.attachment_finish || 0;
  await pick(cfg.big);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="attach-control"] .attach-progress')
    .dataset.percent) > 0);
  await page.getByRole('button', { name: 'Annuler l’envoi' }).click();
  const stopped = await page.locator('[data-testid="attach-control"] [role=alert]', { hasText: 'annulé' })
    .textContent();
  check(/annulé/.test(stopped) && (sent.attachment_finish || 0) === finishes
    && await page.locator('[data-testid="messages"] .file-msg', { hasText: 'cr-hospitalisation.pdf' }).count() === 1,
  '"Annuler l’envoi" stops the upload: never finished, no file listed', `${stopped} | ${JSON.stringify(sent)}`);

  step('a chunk altered on the server');
  execFileSync(cfg.tamper[0], cfg.tamper.slice(1), { stdio: 'ignore', timeout: 60000 });
  const count = downloads;
  await cliEntry.getByRole('button', { name: 'Télécharger' }).click();
  const altered = await cliEntry.locator('[role=alert]').textContent({ timeout: 60000 });
  await page.waitForTimeout(500);
  check(/altéré/.test(altered) && /rien n’a été enregistré/.test(altered) && /\(bad_signature\)/.test(altered)
    && downloads === count,
  'a chunk altered in the server\'s storage is refused in French and nothing is saved', altered);
  await shot('web-attach-4-altered');
});
