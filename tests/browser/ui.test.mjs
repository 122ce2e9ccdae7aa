// tests/browser/ui.test.mjs: ui-static/ in headless Chromium, driven by
// playwright-core. Started by tests/cli/ui_browser.sh, which runs the server:
//   OG_TOKEN=ogt_... OG_OPERATOR=NAME node tests/browser/ui.test.mjs BASE_URL THREAD DONE_THREAD ARTIFACT_DIR
// THREAD waits for its decision (Black Friday); DONE_THREAD was answered
// "manual" after it, so it is the most recently updated thread.
// Checked, in order:
//  0. logging in: a wrong token is refused in the dialog; OG_TOKEN logs in and
//     the header shows OG_OPERATOR; the session cookie is HttpOnly (not in
//     document.cookie) and SameSite=Strict;
//  1. the list shows THREAD first as "waiting for decision" with its service
//     and severity, DONE_THREAD after it as done; j/k move the selection and
//     Enter opens the selected incident;
//  2. the incident page: the root cause, 3 action cards with risk, eta, tools
//     and each action's dry-run (the verdict and fidelity of state.dry_runs),
//     whose impact report opens on the command, its exit and output; the
//     context's baseline table, the SVG with human_decision highlighted;
//  3. a stale plan hash (the page made to show an older one) is sent by the
//     dialog and refused: the page shows "the plan changed";
//  4. two browser pages: page A opens the confirmation of 2, page B answers
//     re-analyze with a hint, then page A's confirm gets a 409 shown in the
//     dialog and on the page; Esc closes the dialog;
//  5. page A (never reloaded) sees the new question live, presses 2, types a
//     note, confirms; the timeline shows action_executor's steps over SSE
//     without a reload, and the graph moves on from human_decision;
//  6. the checkpoint view lists the steps with their writes (action_executor
//     wrote execution), a JSON view of the checkpoint that opens, and the
//     values those channels had after that step (execution of 2).
// Prints "ok N - what" or "FAIL N - what: why" per check; every wait is bounded.
import { chromium } from 'playwright-core';

const [BASE, THREAD, DONE, ART] = process.argv.slice(2);
const { OG_TOKEN: TOKEN, OG_OPERATOR: OPERATOR } = process.env;
if (!BASE || !THREAD || !DONE || !ART || !TOKEN || !OPERATOR) {
  console.error('usage: OG_TOKEN=ogt_... OG_OPERATOR=NAME node tests/browser/ui.test.mjs BASE_URL THREAD DONE_THREAD ARTIFACT_DIR');
  process.exit(2);
}
let n = 0, failed = 0;
async function check(what, fn) {
  n++;
  try {
    await fn();
    console.log(`ok ${n} - ${what}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${n} - ${what}: ${String(e && e.message || e).split('\n').slice(0, 12).join(' | ')}`);
  }
}
function expect(cond, msg) { if (!cond) throw new Error(msg); }
const T = { timeout: 15000 };
const closed = (page) => page.waitForFunction(() => !document.querySelector('#confirm').open, null, T);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  timeout: 30000,
});
const errors = [];
try {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  ctx.setDefaultTimeout(15000);
  const a = await ctx.newPage();
  a.on('pageerror', (e) => errors.push(`page A: ${e.message}`));
  const row = (i) => a.locator('#incidents tbody tr[data-thread]').nth(i);

  // 0. log in
  await a.goto(`${BASE}/#/`);
  await check('a wrong token is refused in the login dialog', async () => {
    await a.waitForSelector('#login-btn:not([hidden])', T);
    expect(/not logged in/.test(await a.locator('#operator').innerText()), 'header before login');
    await a.click('#login-btn');
    await a.waitForSelector('#login[open]', T);
    await a.fill('#login-token', 'ogt_not-a-token');
    await a.click('#login-ok');
    await a.waitForFunction(() => !document.querySelector('#login-error').hidden, null, T);
    expect(/No operator has this token/.test(await a.locator('#login-error').innerText()), 'error text');
  });
  await check('logging in with a token shows the operator', async () => {
    await a.fill('#login-token', TOKEN);
    await a.click('#login-ok');
    await a.waitForFunction(() => !document.querySelector('#login').open, null, T);
    await a.waitForFunction((op) => document.querySelector('#operator').textContent === op, OPERATOR, T);
    expect(await a.locator('#login-btn').innerText() === 'Log out', 'the button offers logout');
  });
  await check('the session cookie is HttpOnly and SameSite=Strict', async () => {
    const c = (await ctx.cookies(BASE)).find((x) => x.name === 'og_session');
    expect(c && c.httpOnly && c.sameSite === 'Strict', `cookie: ${JSON.stringify(c)}`);
    expect(!(await a.evaluate(() => document.cookie)).includes('og_session'), 'script can read the cookie');
  });

  // 1. the list
  await check('the list shows the waiting incident first', async () => {
    await a.waitForSelector('#incidents tbody tr[data-thread]', T);
    expect(await row(0).getAttribute('data-thread') === THREAD, `first row: ${await row(0).getAttribute('data-thread')}`);
    const txt = await row(0).innerText();
    expect(/waiting for decision/.test(txt), `first row: ${txt}`);
    expect(/payment-service/.test(txt) && /critical/.test(txt), `service/severity missing: ${txt}`);
  });
  await check('the done incident comes after it', async () => {
    expect(await row(1).getAttribute('data-thread') === DONE, `second row: ${await row(1).getAttribute('data-thread')}`);
    expect(/done/.test(await row(1).innerText()), await row(1).innerText());
  });
  await a.screenshot({ path: `${ART}/list.png` });
  await check('j/k move the selection, Enter opens the incident', async () => {
    expect(await row(0).getAttribute('aria-selected') === 'true', 'row 0 not selected at first');
    await a.keyboard.press('j');
    await a.waitForSelector(`#incidents tr.sel[data-thread="${DONE}"]`, T);
    await a.keyboard.press('ArrowUp');
    await a.waitForSelector(`#incidents tr.sel[data-thread="${THREAD}"]`, T);
    await a.keyboard.press('k'); // stays on the first row
    await a.keyboard.press('Enter');
    await a.waitForFunction((t) => location.hash === `#/t/${t}`, THREAD, T);
  });

  // 2. the incident page
  await check('the root cause is shown', async () => {
    await a.waitForSelector('#root-cause', T);
    const rc = await a.locator('#root-cause').innerText();
    expect(/connection pool/.test(rc), rc);
    expect(/builtin/.test(await a.locator('#rca').innerText()), 'analyzer not shown');
  });
  await check('3 action cards with risk, eta, tools and the dry-run verdicts', async () => {
    const cards = a.locator('#decide .action');
    expect(await cards.count() === 3, `cards: ${await cards.count()}`);
    const c2 = await cards.nth(1).innerText();
    expect(/risk medium/.test(c2) && /60 s/.test(c2) && /reduce_traffic/.test(c2) && /"percent":30/.test(c2), c2);
    // each card shows the verdict and fidelity that dry_run_actions recorded
    const st = await a.evaluate(async (t) => (await (await fetch(`/api/threads/${t}`)).json()).state, THREAD);
    for (let k = 0; k < 3; k++) {
      const d = st.dry_runs.actions[String(k + 1)];
      const slot = cards.nth(k).locator('[data-slot="dry-run"]');
      expect(d && d.verdict, `no dry-run of action ${k + 1} in the state`);
      expect(await slot.locator('.verdict').innerText() === d.verdict, `card ${k + 1}: ${await slot.innerText()} vs ${d.verdict}`);
      expect(await slot.getAttribute('data-fidelity') === d.fidelity && (await slot.innerText()).includes(`dry-run: ${d.fidelity}`),
        `card ${k + 1} fidelity: ${await slot.getAttribute('data-fidelity')} vs ${d.fidelity}`);
    }
  });
  await check('the impact report opens: the command, its exit and output', async () => {
    const slot = a.locator('#decide .action').nth(0).locator('[data-slot="dry-run"]');
    await slot.locator('details.impact > summary').click();
    const rep = slot.locator('.report').first();
    await rep.waitFor({ state: 'visible', timeout: 5000 });
    const txt = await rep.innerText();
    expect(/restart_service/.test(txt) && /ctl\.py/.test(txt) && /restart payment-service/.test(txt), txt);
    expect(/exit/.test(txt) && /(stdout|stderr)/.test(txt), txt);
    // signals read as what they are: a kill -0 as a liveness check, others by name
    const st = await a.evaluate(async (t) => (await (await fetch(`/api/threads/${t}`)).json()).state, THREAD);
    const d = st.dry_runs.actions['1'];
    const sigs = (d.reports || []).flatMap((r) => r.signals || []);
    for (const x of sigs) {
      const want = x.signal === 0 ? 'liveness check (kill -0)' : /SIG[A-Z]+/;
      expect(typeof want === 'string' ? txt.includes(want) : want.test(txt.split('\n').find((l) => l.includes(`pid ${x.target_pid}`)) || ''),
        `signal ${x.signal} to ${x.target_pid} not named in: ${txt}`);
      expect(txt.includes(`pid ${x.target_pid}`), `signal target ${x.target_pid} missing: ${txt}`);
    }
  });
  await check('the context compares with 24 h and 7 d ago', async () => {
    const t = await a.locator('#context table.metrics').innerText();
    expect(/db_pool_usage/.test(t) && /98\.0%/.test(t) && /41\.0%/.test(t) && /\+139%/.test(t), t);
  });
  await check('the SVG graph highlights human_decision', async () => {
    const cur = a.locator('#svg svg g.current');
    expect(await cur.count() === 1, `current nodes: ${await cur.count()}`);
    expect(await cur.getAttribute('data-node') === 'human_decision', await cur.getAttribute('data-node'));
    expect(await a.locator('#svg svg path.e').count() >= 10, 'edges missing');
  });
  await a.screenshot({ path: `${ART}/incident.png` });

  // 3. a stale plan hash
  await check('a stale plan hash is refused with a visible message', async () => {
    const shown = await a.locator('#plan-hash').innerText();
    expect(/^fnv1a64:[0-9a-f]{16}$/.test(shown), `plan hash ${shown}`);
    await a.evaluate(() => { document.querySelector('#plan-hash').textContent = 'fnv1a64:0000000000000000'; });
    await a.keyboard.press('2');
    await a.waitForSelector('#confirm[open]', T);
    expect(await a.locator('#confirm-hash').innerText() === 'fnv1a64:0000000000000000', 'dialog hash');
    await a.click('#confirm-ok');
    await a.waitForSelector('#rejected', T);
    const msg = await a.locator('#rejected').innerText();
    expect(/the plan changed/.test(msg) && msg.includes(shown), msg);
    expect(await a.locator('#plan-hash').innerText() === shown, 'the page shows the real hash again');
  });

  // 4. two pages: the second answer loses with a 409
  const b = await ctx.newPage();
  b.on('pageerror', (e) => errors.push(`page B: ${e.message}`));
  await check('an answer to an interrupt already answered elsewhere gets a visible 409', async () => {
    await b.goto(`${BASE}/#/t/${THREAD}`);
    await b.waitForSelector('#decide .action', T);
    await a.keyboard.press('2');
    await a.waitForSelector('#confirm[open]', T);
    await b.keyboard.press('r');
    await b.waitForSelector('#confirm[open]', T);
    expect(await b.locator('#hint-label').isVisible(), 'hint field for re-analyze');
    await b.fill('#confirm-hint', 'look at the Redis cluster too');
    await b.click('#confirm-ok');
    await closed(b);
    await a.click('#confirm-ok');
    await a.waitForFunction(() => !document.querySelector('#confirm-error').hidden, null, T);
    const err = await a.locator('#confirm-error').innerText();
    expect(/409/.test(err) && /already resumed/.test(err), err);
    await a.keyboard.press('Escape');
    await closed(a);
    expect(/409/.test(await a.locator('#action-error').innerText()), 'no error on the page');
  });
  await b.close();

  // 5. the new question arrives live; approve 2 with a note
  await a.evaluate(() => { window.__notReloaded = true; });
  await check('the re-analysed question arrives live and 2 is approved with a note', async () => {
    await a.waitForFunction(() => /1 of 3/.test((document.querySelector('#decide') || {}).textContent || ''), null, { timeout: 30000 });
    await a.keyboard.press('2');
    await a.waitForSelector('#confirm[open]', T);
    expect(/Shed 30%/.test(await a.locator('#confirm-body').innerText()), 'dialog names action 2');
    expect(!(await a.locator('#hint-label').isVisible()), 'no hint field for an action');
    await a.fill('#confirm-note', 'shedding load first, approved in the browser test');
    await a.click('#confirm-ok');
    await closed(a);
  });
  await check('the live timeline shows the executor without a reload', async () => {
    await a.waitForSelector('#timeline li[data-node="action_executor"]', { timeout: 30000 });
    expect(await a.evaluate(() => window.__notReloaded === true), 'the page was reloaded');
    await a.waitForSelector('#execution', T);
    expect(/reduce_traffic/.test(await a.locator('#execution').innerText()), 'execution result');
    const cur = await a.locator('#svg svg g.current').getAttribute('data-node').catch(() => null);
    expect(cur !== 'human_decision', `graph still on ${cur}`);
  });
  await check('who decided what: choice 2 with the note', async () => {
    const w = await a.locator('#who').innerText();
    expect(w.includes(`action 2 approved by ${OPERATOR}`) && /approved in the browser test/.test(w) && w.includes(`re-analysis 1 of 3 asked by ${OPERATOR}: look at the Redis`) && /the plan changed/.test(w), w);
  });
  await a.screenshot({ path: `${ART}/decided.png` });

  // 5b. shedding does not free leaked connections: verify_recovery asks again
  // (live); "manual" ends the incident and the status reaches done over SSE
  await check('verify_recovery asks live; manual ends it and the status reaches done without a reload', async () => {
    await a.waitForSelector('#decide button[data-option="manual"]', { timeout: 60000 });
    expect(/not_recovered/i.test(await a.locator('#decide h2').innerText()), await a.locator('#decide h2').innerText());
    await a.click('#decide button[data-option="manual"]');
    await a.waitForSelector('#confirm[open]', T);
    await a.click('#confirm-ok');
    await closed(a);
    await a.waitForFunction(() => /^done$/.test(((document.querySelector('#status') || {}).textContent || '').trim()), null, { timeout: 30000 });
    expect(await a.evaluate(() => window.__notReloaded === true), 'the page was reloaded');
    const w = await a.locator('#who').innerText();
    expect(/verification answer/.test(w) && !/\[object Object\]/.test(w), w);
  });
  await a.screenshot({ path: `${ART}/done.png` });

  // 6. checkpoints
  await check('the checkpoint view shows the steps and their writes', async () => {
    await a.keyboard.press('c');
    await a.waitForSelector('#checkpoints tbody tr', T);
    expect(await a.locator('#checkpoints tbody tr').count() >= 8, 'too few checkpoints');
    const ex = a.locator('#checkpoints tbody tr', { hasText: 'action_executor → execution' });
    expect(await ex.count() >= 1, 'no step with action_executor → execution');
    const det = ex.first().locator('details.row-json');
    await det.locator('summary').first().click();
    const json = await det.innerText();
    expect(/writes/.test(json) && /"execution"/.test(json), json.slice(0, 300));
    // the values as that step left them, loaded from GET /api/threads/{id}?checkpoint=ID
    const val = ex.first().locator('details.values');
    await val.locator('summary').first().click();
    // a checkpoint event may re-render the table meanwhile: read the row again until loaded
    let v = '';
    for (let i = 0; i < 50 && !/action_id/.test(v); i++) {
      v = await ex.first().locator('details.values').innerText().catch(() => '');
      if (!/action_id/.test(v)) await a.waitForTimeout(200);
    }
    expect(/values of execution.* after this step/.test(v) && /action_id: "2"/.test(v) && /results: \[1\]/.test(v), v.slice(0, 400));
  });
  await a.screenshot({ path: `${ART}/checkpoints.png` });
  await check('Esc goes back to the list', async () => {
    await a.keyboard.press('i');
    await a.waitForSelector('#root-cause', T);
    await a.keyboard.press('Escape');
    await a.waitForSelector('#incidents tbody tr[data-thread]', T);
  });
  await check('logging out ends the session', async () => {
    await a.click('#login-btn');
    await a.waitForFunction(() => /not logged in/.test(document.querySelector('#operator').textContent), null, T);
    const s = await a.evaluate(async () => (await fetch('/api/session')).json());
    expect(s.operator === null, JSON.stringify(s));
  });
  await check('no script errors on the pages', async () => { expect(!errors.length, errors.join(' | ')); });
} catch (e) {
  failed++;
  console.log(`FAIL ${++n} - the browser test stopped: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
