// web_mail.mjs — the browser half of test_web_mail.py: in « Mon compte »,
// the « E-mails » section reads the server's mail_status and turns the
// e-mails off and on (mail_set) for the logged-in user, as `liaison mail`.
// Phases (cfg.phase):
//   norelay  enrol on a server without an SMTP relay: said so
//   enrol    enrol on a server with a relay, no address yet: said so
//   off      (address set by the administrator) the address is shown; the
//            switch turns the e-mails off, which a reload still shows
//   on       the switch turns them on again
// Usage: node web_mail.mjs CONFIG_JSON
import { launch, enrol, unlock, openView, axe } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const b = await launch(cfg);
const { values, check, shot } = b;

const mailState = async (page) => {
  await page.waitForSelector('[data-testid="mail"][data-enabled]');
  const section = page.locator('[data-testid="mail"]');
  return {
    enabled: await section.getAttribute('data-enabled'),
    checked: await page.getByLabel('M’écrire quand quelque chose m’attend dans Liaison').isChecked(),
    sentence: await page.locator('[data-testid="mail-sentence"]').textContent(),
  };
};

const toggle = async (page, want) => {
  const box = page.getByLabel('M’écrire quand quelque chose m’attend dans Liaison');
  if (want) await box.check(); else await box.uncheck();
  await page.waitForSelector(`[data-testid="mail"][data-enabled="${want ? 'on' : 'off'}"]`);
  return page.locator('[data-testid="mail"] [role=status], [data-testid="mail"] [role=alert]').first().textContent();
};

await b.run(async ({ page, step }) => {
  if (cfg.phase === 'norelay' || cfg.phase === 'enrol') {
    step('enrol');
    await page.goto(cfg.url);
    await enrol(page, cfg.code, cfg.passphrase, 'Navigateur du cabinet');
    await openView(page, 'account');
    values.me = await page.locator('[data-testid="whoami"]').getAttribute('data-user');
    const st = await mailState(page);
    if (cfg.phase === 'norelay') {
      check(/n’envoie pas d’e-mail/.test(st.sentence) && /aucun relais SMTP/.test(st.sentence),
        'a server without an SMTP relay: « Mon compte » says it sends no e-mail', JSON.stringify(st));
      return;
    }
    check(st.enabled === 'on' && st.checked && /Aucune adresse e-mail/.test(st.sentence)
      && /administrateur/.test(st.sentence),
    'no address yet: e-mails on by default, and the page says to ask the administrator for one',
    JSON.stringify(st));
    const serious = (await axe(page, cfg.web)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
    check(serious.length === 0, 'axe: no serious violation in « Mon compte » with its e-mail switch',
      JSON.stringify(serious));
    return;
  }
  step('unlock');
  await page.goto(cfg.url);
  await unlock(page, cfg.passphrase);
  await openView(page, 'account');
  if (cfg.phase === 'off') {
    const before = await mailState(page);
    check(before.enabled === 'on' && before.checked && before.sentence.includes(cfg.address)
      && /jamais le patient/.test(before.sentence),
    'the administrator\'s address is shown, with what the e-mail says and never says', JSON.stringify(before));
    step('turn off');
    const said = await toggle(page, false);
    await shot('web-mail-off');
    const after = await mailState(page);
    check(/E-mails désactivés/.test(said) && !after.checked && /ne recevez pas d’e-mail/.test(after.sentence),
      'unticking the switch turns the e-mails off and says so', `${said} | ${JSON.stringify(after)}`);
    step('reload');
    await page.reload();
    await unlock(page, cfg.passphrase);
    await openView(page, 'account');
    const again = await mailState(page);
    check(again.enabled === 'off' && !again.checked, 'after a reload the server still says off',
      JSON.stringify(again));
    return;
  }
  step('turn on');
  const said = await toggle(page, true);
  const st = await mailState(page);
  check(/E-mails activés/.test(said) && st.checked && st.sentence.includes(cfg.address),
    'ticking it again turns them on', `${said} | ${JSON.stringify(st)}`);
});
