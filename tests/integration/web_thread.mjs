// web_thread.mjs — the browser half of test_web_thread.py: Debian's
// Chromium reads and answers threads the real CLI writes, creates one, sees
// receipts and live messages, shows an altered envelope's refusal as the
// CLI does, and scrolls a long thread. The CLI of the colleagues (cfg.paul,
// cfg.claire: command and environment) is run from here when the page must
// be open while it acts. One JSON line per check; {"values"} last.
// Usage: node web_thread.mjs CONFIG_JSON
import { execFileSync } from 'node:child_process';
import { launch, enrol, unlock, openView } from './web_lib.mjs';

const cfg = JSON.parse(process.argv[2]);
const b = await launch(cfg);
const { values, check, shot } = b;

function cli(who, ...args) {
  const out = execFileSync(who.cmd[0], [...who.cmd.slice(1), ...args],
    { env: { ...process.env, ...who.env }, timeout: 120000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}
const cliJson = (who, ...args) => JSON.parse(cli(who, '--json', ...args));
const msgOf = (obj, seq) => (obj.messages || []).find((m) => m.seq === seq);

if (process.env.LSN_DEBUG) {
  b.page.on('console', (m) => process.stderr.write(`console ${m.type()}: ${m.text()}\n`));
  b.page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => process.stderr.write(`${Date.now() % 1000000} <- ${String(f.payload).slice(0, 120)}\n`));
    ws.on('framesent', (f) => process.stderr.write(`${Date.now() % 1000000} -> ${String(f.payload).slice(0, 120)}\n`));
    ws.on('close', () => process.stderr.write('ws closed\n'));
  });
}

await b.run(async ({ page, step }) => {
  const article = (seq) => page.locator(`article.msg[data-seq="${seq}"]`);
  const item = (ch) => page.locator(`li.thread-item[data-channel="${ch}"]`);

  if (cfg.phase === 'enrol') {
    step('enrol');
    await page.goto(cfg.url);
    await enrol(page, cfg.code, cfg.passphrase, 'Navigateur du service');
    await b.view('threads');
    const h1 = await page.locator('h1').first().textContent();
    check(h1 === 'Messages', 'after enrolment the home view is the thread list ("Messages")', h1);
    return;
  }

  if (cfg.phase === 'fill') {
    step('second browser: enrol and create the long thread');
    await page.goto(cfg.url);
    await enrol(page, cfg.code, cfg.passphrase, 'Poste de cardiologie');
    await b.view('threads');
    await page.getByLabel('Sujet du fil').fill('Fil long');
    await page.getByLabel('Rechercher un collègue').fill('Navigateur');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.getByLabel(/^Dr Anne Navigateur — /).check();
    await page.getByRole('button', { name: 'Créer le fil' }).click();
    await page.waitForSelector('html[data-view="thread"][data-view-arg]');
    const ch = await page.evaluate(() => document.documentElement.dataset.viewArg);
    values.long_channel = ch;
    check(/^[0-9a-f]{32}$/.test(ch), 'a second browser user creates a thread with Anne', ch);
    step('second browser: type the messages');
    const box = page.getByLabel('Votre message');
    const t0 = Date.now();
    let sent = 0;
    // the first ones typed as a person does; the rest put in the composer
    // and sent with Ctrl+Entrée by DOM events in one go (the same handler,
    // without one playwright round trip per message): the composer is free
    // as soon as a message is taken, and the page sends them in order
    for (let i = 2; i <= Math.min(cfg.total, 6); i++) {
      await box.fill(`Message ${i} du fil long`);
      await box.press('Control+Enter');
      sent++;
    }
    sent += await page.evaluate((total) => {
      const ta = document.getElementById('composer');
      let n = 0;
      for (let i = 7; i <= total; i++) {
        ta.value = `Message ${i} du fil long`;
        ta.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', ctrlKey: true, bubbles: true, cancelable: true }));
        n++;
      }
      return n;
    }, cfg.total);
    const typed = Date.now() - t0;
    await page.waitForSelector(`article.msg[data-seq="${cfg.total}"][data-status="ok"]`, { timeout: 900000, state: 'attached' });
    const ms = Date.now() - t0;
    values.fill = { messages: sent, ms, typed_ms: typed, per_message_ms: Math.round(ms / Math.max(1, sent)) };
    const texts = await page.evaluate(() => [...document.querySelectorAll('article.msg .body.text')].map((e) => e.textContent));
    check(sent === cfg.total - 1 && texts[texts.length - 1] === `Message ${cfg.total} du fil long`
      && texts.length >= Math.min(50, cfg.total - 1),
      `the second browser sends ${cfg.total - 1} messages with its composer`, JSON.stringify(values.fill));
    return;
  }

  await page.goto(cfg.url);
  await unlock(page, cfg.passphrase);
  await b.view('threads');

  if (cfg.phase === 'main') {
    const ch = cfg.channel;
    const paulId = cliJson(cfg.paul, 'whoami').user.id;
    step('list');
    await item(ch).waitFor();
    await page.waitForFunction(([c, t]) => document.querySelector(`li[data-channel="${c}"] .name`)?.textContent === t,
      [ch, cfg.topic], { timeout: 30000 });
    const unread = await item(ch).getAttribute('data-unread');
    const badge = await item(ch).locator('.unread').textContent();
    check(unread === '3' && badge === '3 non lus',
      'the CLI\'s thread is in the list with its topic (decrypted here) and its unread count (3)', `${unread} ${badge}`);
    await shot('web-threads-1-list');

    step('open');
    await item(ch).locator('a').click();
    await page.waitForSelector(`html[data-view="thread"][data-view-arg="${ch}"]`);
    await article(3).waitFor();
    const read = [];
    for (const seq of [1, 2, 3]) {
      read.push({ seq, status: await article(seq).getAttribute('data-status'),
        who: await article(seq).locator('.who').textContent(), body: await article(seq).locator('.body').innerText() });
    }
    check(read.every((m) => m.status === 'ok' && m.who === 'Paul Durand (Pharmacien d\'officine)')
      && /Sujet fixé/.test(read[0].body) && read[0].body.includes(cfg.topic)
      && read[1].body === 'Bonjour, le patient sort demain : pouvez-vous le voir ?'
      && read[2].body === 'Traitement inchangé.\nÀ bientôt.',
    'the browser decrypts and verifies the CLI\'s messages: topic, texts (lines kept), the sender\'s name', JSON.stringify(read));

    step('receipts to the CLI');
    let paulView = cliJson(cfg.paul, 'read', ch);
    const readBy = (msgOf(paulView, 3) || {}).read_by || [];
    check(readBy.includes('Dr Anne Navigateur (Médecin généraliste)'),
      'the CLI shows the browser\'s read receipt on its messages', JSON.stringify(msgOf(paulView, 3)));

    step('answer');
    const answer = `Réponse du navigateur ${Date.now()} : je passe demain matin.`;
    values.answer = answer;
    await page.getByLabel('Votre message').fill(answer);
    await page.getByLabel('Votre message').press('Control+Enter');
    const mine = page.locator('article.msg.mine', { hasText: answer });
    await mine.waitFor();
    const answerSeq = Number(await mine.getAttribute('data-seq'));
    check(answerSeq === 4 && await mine.getAttribute('data-status') === 'ok'
      && await page.getByLabel('Votre message').inputValue() === '',
    'Ctrl+Entrée sends the answer: it is shown as message 4, the composer emptied', `seq ${answerSeq}`);

    step('the CLI reads the answer');
    paulView = cliJson(cfg.paul, 'read', ch);
    const got = msgOf(paulView, answerSeq) || {};
    check(got.verified === true && got.status === 'ok' && (got.content || {}).body === answer
      && got.sender_name === 'Dr Anne Navigateur (Médecin généraliste)' && !got.detail,
    'the CLI\'s read --json shows the answer decrypted and verified, from the browser\'s user', JSON.stringify(got));

    step('receipt from the CLI, live');
    await page.waitForFunction(([s, p]) => (document.querySelector(`article[data-seq="${s}"]`)?.dataset.readBy || '')
      .split(' ').includes(p), [answerSeq, paulId], { timeout: 20000 });
    const line = await article(answerSeq).locator('.receipts').textContent();
    check(/^✓ lu par Paul Durand \(Pharmacien d'officine\)/.test(line),
      'the CLI\'s read receipt arrives live: "lu par Paul Durand" under the answer', line);

    step('live message');
    cli(cfg.paul, 'send', ch, 'Message en direct de la pharmacie');
    const live = page.locator('article.msg', { hasText: 'Message en direct de la pharmacie' });
    await live.waitFor({ timeout: 20000 });
    check(await live.getAttribute('data-status') === 'ok' && await page.evaluate(() => document.documentElement.dataset.view) === 'thread',
      'a message the CLI sends while the thread is open appears without reload, verified', await live.innerText());
    await shot('web-threads-2-thread');

    step('unread after reading');
    await page.getByRole('link', { name: '← Tous les fils' }).click();
    await b.view('threads');
    await item(ch).waitFor();
    await page.waitForFunction((c) => document.querySelector(`li[data-channel="${c}"]`)?.dataset.unread === '0', ch,
      { timeout: 10000 }).catch(() => {});
    check(await item(ch).getAttribute('data-unread') === '0' && await item(ch).locator('.unread').count() === 0,
      'back in the list, the thread has no unread message', await item(ch).innerText());

    step('create a thread');
    await page.getByLabel('Sujet du fil').fill('Fil créé dans le navigateur');
    await page.getByLabel('Rechercher un collègue').fill('Durand');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.getByLabel(/^Paul Durand — /).check();
    await page.getByRole('button', { name: 'Créer le fil' }).click();
    await page.waitForSelector('html[data-view="thread"][data-view-arg]');
    const created = await page.evaluate(() => document.documentElement.dataset.viewArg);
    values.created = created;
    await page.getByLabel('Votre message').fill('Premier message du navigateur');
    await page.getByRole('button', { name: 'Envoyer' }).click();
    const first = page.locator('article.msg.mine', { hasText: 'Premier message du navigateur' });
    await first.waitFor();
    const members = await page.locator('[data-testid="members"]').textContent();
    check(/^[0-9a-f]{32}$/.test(created) && await first.getAttribute('data-status') === 'ok'
      && /Paul Durand/.test(members) && /Dr Anne Navigateur.*\[admin\]/.test(members),
    'the browser creates a thread with a colleague found in the directory, and writes in it', `${created} ${members}`);

    step('labels');
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.labels.length === 0 || !el.labels[0].textContent.trim()).map((el) => el.outerHTML));
    await openView(page, 'threads');
    const unlabelled2 = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.labels.length === 0 || !el.labels[0].textContent.trim()).map((el) => el.outerHTML));
    check(unlabelled.length === 0 && unlabelled2.length === 0, 'every field of the thread and list views has its label',
      [...unlabelled, ...unlabelled2].join(' '));
    return;
  }

  if (cfg.phase === 'tamper') {
    step('tampered envelope');
    await openView(page, 'thread', cfg.channel);
    await article(cfg.seq).waitFor();
    const a = article(cfg.seq);
    const shown = { status: await a.getAttribute('data-status'), detail: await a.locator('.body').getAttribute('data-detail'),
      who: await a.locator('.who').textContent(), text: await a.locator('.body').textContent() };
    values.tamper = shown;
    check(shown.status === cfg.cli.status && shown.detail === cfg.cli.detail
      && shown.who === 'message non vérifié (le serveur dit de Paul Durand (Pharmacien d\'officine))'
      && /signature invalide/.test(shown.text),
    'the altered envelope: the browser shows the CLI\'s refusal (same status and detail), "message non vérifié (le serveur dit de …)"',
    `${JSON.stringify(shown)} vs CLI ${JSON.stringify({ status: cfg.cli.status, detail: cfg.cli.detail })}`);
    step('deleted message');
    const gap = page.locator(`p.gap[data-gap="seq"][data-from="${cfg.after - 1}"][data-to="${cfg.after - 1}"]`);
    await gap.waitFor();
    const gapText = await gap.textContent();
    const warnAt = article(cfg.after).locator('[data-link-missing]');
    const linkWarn = await warnAt.count() ? await warnAt.textContent() : '(no warning shown)';
    check(gapText === `le message n° ${cfg.after - 1} manque : retenu ou supprimé par le serveur`
      && /^ATTENTION : un message de Paul Durand \(Pharmacien d'officine\) envoyé avant celui-ci manque : retenu ou supprimé par le serveur$/.test(linkWarn)
      && await article(cfg.after).getAttribute('data-status') === 'ok',
    'the deleted message: the browser shows the missing seq and the next message\'s broken link, as the CLI',
    `${gapText} | ${linkWarn}`);
    step('receipts stop before it');
    await page.waitForTimeout(500);
    const paulView = cliJson(cfg.paul, 'read', cfg.channel);
    const anne = 'Dr Anne Navigateur (Médecin généraliste)';
    const before = msgOf(paulView, cfg.seq - 1) || {};
    const at = msgOf(paulView, cfg.seq) || {};
    check((before.read_by || []).includes(anne) && !(at.read_by || []).includes(anne)
      && !(at.delivered_to || []).includes(anne),
    'the browser\'s receipts stop before the refused message (read up to the one before, not delivered past it)',
    JSON.stringify({ before: before.read_by, at: [at.read_by, at.delivered_to] }));
    return;
  }

  if (cfg.phase === 'big') {
    step('long thread: open');
    const total = cfg.total;
    await item(cfg.channel).waitFor();
    await page.evaluate(() => {
      window.__lt = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lt.push(e.duration); })
        .observe({ type: 'longtask' });
    });
    const t0 = Date.now();
    await item(cfg.channel).locator('a').click();
    try {
      await page.waitForSelector(`article.msg[data-seq="${total}"]`, { timeout: 120000 });
    } catch (e) {
      throw new Error(`${e.message}\npage: ${(await page.locator('#app').innerText()).slice(0, 3000)}`);
    }
    const openMs = Date.now() - t0;
    const openTasks = await page.evaluate(() => window.__lt.splice(0));
    const lastOk = await article(total).getAttribute('data-status');
    check(lastOk === 'ok' && await page.locator('article.msg').count() <= 100,
      `the ${total}-message thread opens on its newest messages, decrypted, only a page of them rendered`,
      `${openMs} ms; rendered ${await page.locator('article.msg').count()}`);

    step('long thread: scroll to the top');
    const box = await page.locator('[data-testid="messages"]').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const t1 = Date.now();
    let wheels = 0;
    while (await page.locator('article.msg[data-seq="1"]').count() === 0 && Date.now() - t1 < 120000) {
      await page.mouse.wheel(0, -4000);
      wheels++;
      await page.waitForTimeout(50);
    }
    const scrollMs = Date.now() - t1;
    const scrollTasks = await page.evaluate(() => window.__lt.splice(0));
    const statuses = await page.evaluate(() => [...document.querySelectorAll('article.msg')].map((a) => a.dataset.status));
    const topText = await article(1).textContent().catch(() => '');
    check(statuses.length === total && statuses.every((s) => s === 'ok') && /Fil long/.test(topText),
      'scrolling up reaches the first message (the topic); every message is there and verified',
      `${statuses.length} rendered, ${statuses.filter((s) => s !== 'ok').length} not ok, ${wheels} wheel turns`);
    const max = (l) => Math.round(l.reduce((m, x) => Math.max(m, x), 0));
    values.big = { messages: total, open_ms: openMs, open_longest_task_ms: max(openTasks), open_long_tasks: openTasks.length,
      scroll_ms: scrollMs, wheel_turns: wheels, scroll_longest_task_ms: max(scrollTasks), scroll_long_tasks: scrollTasks.length };
    check(max(scrollTasks) < 1000, 'while scrolling, no task holds the page for a second or more (numbers in the values)',
      JSON.stringify(values.big));
  }
});
