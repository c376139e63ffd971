// web_xss.mjs — the browser half of test_web_xss.py: enrol (phase
// "enrol"), then (phase "read") open the thread the CLI made of markup and
// check that every piece is shown as text. Usage: node web_xss.mjs CONFIG_JSON
import { launch, enrol, unlock, openView } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const b = await launch(cfg);

await b.run(async ({ page, check, step }) => {
  await page.goto(cfg.url);
  if (cfg.phase === 'enrol') {
    step('enrol');
    await enrol(page, cfg.code, cfg.passphrase);
    return;
  }
  step('unlock');
  await unlock(page, cfg.passphrase);
  const title0 = await page.title();
  step('thread list');
  await openView(page, 'threads');
  await page.waitForFunction((t) => document.body.innerText.includes(t), cfg.topic, { timeout: 60000 });
  step('thread');
  await openView(page, 'thread', cfg.channel);
  await page.waitForFunction((t) => document.body.innerText.includes(t), cfg.body, { timeout: 60000 });
  await page.waitForFunction((t) => document.body.innerText.includes(t), cfg.file, { timeout: 60000 });
  await page.waitForTimeout(500); // anything a stray element would do, it has done
  const app = await page.evaluate(() => {
    const root = document.getElementById('app');
    return {
      text: root.innerText,
      tags: [...root.querySelectorAll('script, img, svg:not([data-qr]), iframe, object, embed, b')].map((e) => e.outerHTML.slice(0, 80)),
      handlers: [...root.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
      jsLinks: [...root.querySelectorAll('a[href^="javascript:" i]')].length,
    };
  });
  check(app.text.includes(cfg.topic), 'the topic that is markup is shown as its characters', cfg.topic);
  check(app.text.includes(cfg.body) && app.text.includes(cfg.file),
    'the message and the file name that are markup are shown as their characters', `${cfg.body} | ${cfg.file}`);
  check(app.tags.length === 0 && app.handlers === 0 && app.jsLinks === 0,
    'no element, handler or javascript: link came from them (no <script>, <img>, <svg>, <b>, on…=)',
    JSON.stringify(app));
  const title = await page.title();
  check(title === title0 && !/pwned/.test(title), 'nothing of them ran (the document title is untouched)', title);
});
