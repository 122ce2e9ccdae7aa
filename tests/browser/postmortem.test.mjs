// tests/browser/postmortem.test.mjs: the Postmortem page (ui-static/js/postmortem.js)
// in headless Chromium, driven by playwright-core. Started by
// tests/cli/ui_postmortem.sh, which runs the server (auth on) and a finished
// thread of tests/graphs/diff_state.lua (checkpoints 1 input, 2 collect,
// 3 analyze, 4 act):
//   OG_TOKEN=ogt_... OG_OPERATOR=NAME node tests/browser/postmortem.test.mjs BASE_URL THREAD ARTIFACT_DIR
// Checked, in order:
//  1. the incident page links the postmortem page (p), which opens on THREAD;
//  2. the timeline lists collect, analyze and act in that order;
//  3. the branch tree has one branch ending at #4, done;
//  4. picking checkpoints 2 and 4 and Diff shows /stage changed
//     ("collected" -> "acted"), /plan added and /rca added, colour-coded;
//  5. logged out, "Fork" asks for a login (same right as deciding) and
//     nothing is forked; logging in comes back to the page;
//  6. a click on checkpoint #2 in the tree makes it the fork point; its
//     context channel is put in the editor, the p99 value edited to 40,
//     "Fork and run" forks and runs the branch, which ends done;
//  7. the tree then shows two branches, the fork marked, from #2;
//  8. the side-by-side compare shows both branches' steps after #2 and the
//     diff of their final states: /context/metrics/0/value 120 -> 40,
//     /rca/cause changed, /plan/1 removed;
//  9. (OG_INCIDENT on OG_INCIDENT_BASE, an incident waiting for its decision)
//     at the checkpoint before the decision, the incident graph's shortcut
//     "re-analyze with a hint" fills the editor (operator_hint, as node
//     context_collector); Fork and run: a second branch re-analyzes and waits
//     for a decision again; the compare shows /operator_hint.
// Prints "ok N - what" or "FAIL N - what: why" per check; every wait is bounded.
import { chromium } from 'playwright-core';

const [BASE, THREAD, ART] = process.argv.slice(2);
const { OG_TOKEN: TOKEN, OG_OPERATOR: OPERATOR, OG_INCIDENT_BASE: INC_BASE, OG_INCIDENT: INCIDENT } = process.env;
if (!BASE || !THREAD || !ART || !TOKEN || !OPERATOR) {
  console.error('usage: OG_TOKEN=ogt_... OG_OPERATOR=NAME node tests/browser/postmortem.test.mjs BASE_URL THREAD ARTIFACT_DIR');
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

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  timeout: 30000,
});
const errors = [];
try {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  ctx.setDefaultTimeout(15000);
  const a = await ctx.newPage();
  a.on('pageerror', (e) => errors.push(e.message));
  const rows = (sel) => a.locator(sel);

  await check('the incident page links the postmortem page; p opens it', async () => {
    await a.goto(`${BASE}/#/t/${encodeURIComponent(THREAD)}`);
    await a.waitForSelector(`#crumbs a[href="#/t/${encodeURIComponent(THREAD)}/postmortem"]`, T);
    await a.locator('#main').click({ position: { x: 5, y: 5 } });
    await a.keyboard.press('p');
    await a.waitForFunction((t) => location.hash === `#/t/${encodeURIComponent(t)}/postmortem`, THREAD, T);
    await a.waitForSelector('#pm-timeline li', T);
    expect((await a.locator('h1').innerText()).includes(THREAD), 'heading names the thread');
  });

  await check('the timeline lists collect, analyze and act in order', async () => {
    const text = await a.locator('#pm-timeline').innerText();
    const i = ['collect', 'analyze', 'act'].map((w) => text.search(new RegExp(`\\b${w}\\b`)));
    expect(i.every((x) => x >= 0) && i[0] < i[1] && i[1] < i[2], `positions ${i} in: ${text.slice(0, 400)}`);
  });

  await check('the key figures name both clocks and link the report downloads', async () => {
    const f = a.locator('#pm-figures');
    await f.waitFor({ state: 'visible', timeout: 5000 });
    const text = await f.innerText();
    expect(/time to acknowledge/.test(text) && /from opsgraph's receipt/.test(text) && /from the alert's startsAt/.test(text), text);
    expect(await f.locator('a[href$="format=md"]').count() === 1 && await f.locator('a[href$="format=html"]').count() === 1, 'download links');
  });

  await check('the branch tree has one branch, ending at #4, done', async () => {
    expect(await rows('#pm-tree [data-leaf]').count() === 1, 'one leaf');
    const leaf = a.locator('#pm-tree [data-leaf]');
    expect(await leaf.getAttribute('data-leaf') === '4', `leaf ${await leaf.getAttribute('data-leaf')}`);
    expect(/done/.test(await leaf.innerText()), 'status done');
  });

  await check('checkpoints 2 and 4: /stage changed, /plan and /rca added, colour-coded', async () => {
    await a.selectOption('#pm-from', '2');
    await a.selectOption('#pm-to', '4');
    await a.click('#pm-diff-go');
    await a.waitForSelector('#pm-diff-result tr[data-path="/stage"]', T);
    const st = a.locator('#pm-diff-result tr[data-path="/stage"]');
    expect(await st.getAttribute('class') === 'op-changed', `class ${await st.getAttribute('class')}`);
    const txt = await st.innerText();
    expect(txt.includes('"collected"') && txt.includes('"acted"'), txt);
    expect(await a.locator('#pm-diff-result tr.op-added[data-path="/plan"]').count() === 1, '/plan added');
    expect(await a.locator('#pm-diff-result tr.op-added[data-path="/rca"]').count() === 1, '/rca added');
    const colors = await a.evaluate(() => ['op-added', 'op-changed'].map((c) =>
      getComputedStyle(document.querySelector(`#pm-diff-result tr.${c}`)).backgroundColor));
    expect(colors[0] !== colors[1], `added and changed rows look the same: ${colors}`);
    await a.screenshot({ path: `${ART}/postmortem-diff.png`, fullPage: true });
  });

  await check('logged out, forking asks for a login and forks nothing', async () => {
    expect(/Log in to fork/.test(await a.locator('#pm-fork-run').innerText()), 'button label');
    await a.click('#pm-fork-run');
    await a.waitForSelector('#login[open]', T);
    await a.fill('#login-token', TOKEN);
    await a.click('#login-ok');
    await a.waitForFunction(() => !document.querySelector('#login').open, null, T);
    await a.waitForFunction(() => /Fork and run/.test((document.querySelector('#pm-fork-run') || {}).textContent || ''), null, T);
    expect((await a.locator('#operator').innerText()).includes(OPERATOR), 'header shows the operator');
    expect(await rows('#pm-tree [data-leaf]').count() === 1, 'still one branch');
  });

  await check('fork from #2 with an edited p99, run the branch: done', async () => {
    await a.click('#pm-tree .pm-chip[data-checkpoint="2"]');
    await a.waitForFunction(() => document.querySelector('#pm-fork-ckpt').value === '2', null, T);
    await a.waitForFunction(() => [...document.querySelectorAll('#pm-fork-chan option')].some((o) => o.value === 'context'), null, T);
    await a.selectOption('#pm-fork-chan', 'context');
    await a.click('#pm-fork-insert');
    const up = JSON.parse(await a.inputValue('#pm-fork-update'));
    expect(up.context && up.context.metrics[0].value === 120, `editor: ${JSON.stringify(up)}`);
    up.context.metrics[0].value = 40;
    await a.fill('#pm-fork-update', JSON.stringify(up, null, 2));
    await a.selectOption('#pm-fork-as', 'collect');
    await a.click('#pm-fork-run');
    await a.waitForFunction(() => /ran: done/.test((document.querySelector('#pm-fork-status') || {}).textContent || ''), null, { timeout: 30000 });
  });

  await check('the tree shows two branches, the fork of #2 marked', async () => {
    await a.waitForFunction(() => document.querySelectorAll('#pm-tree [data-leaf]').length === 2, null, T);
    expect(await rows('#pm-tree .branch-at[data-parent="2"]').count() === 2, 'two branches from #2');
    expect(await rows('#pm-tree .pm-chip.fork').count() === 1, 'one fork checkpoint');
  });

  await check('side by side: both branches after #2 and their final states diff', async () => {
    await a.waitForSelector('#pm-compare-diff tr', T);
    const left = await a.locator('#pm-col-a').innerText(), right = await a.locator('#pm-col-b').innerText();
    expect(/analyze/.test(left) && /act/.test(left), `left: ${left}`);
    expect(/fork/.test(right) && /analyze/.test(right), `right: ${right}`);
    const v = a.locator('#pm-compare-diff tr[data-path="/context/metrics/0/value"]');
    expect(await v.getAttribute('class') === 'op-changed', 'p99 changed');
    const vt = await v.innerText();
    expect(vt.includes('120') && vt.includes('40'), vt);
    expect(await rows('#pm-compare-diff tr.op-changed[data-path="/rca/cause"]').count() === 1, '/rca/cause changed');
    expect(await rows('#pm-compare-diff tr.op-removed[data-path="/plan/1"]').count() === 1, '/plan/1 removed');
    await a.screenshot({ path: `${ART}/postmortem-compare.png`, fullPage: true });
  });

  if (INC_BASE && INCIDENT) {
    await check('incident: the re-analysis shortcut forks at the decision and the branch asks again', async () => {
      await a.goto(`${INC_BASE}/#/t/${encodeURIComponent(INCIDENT)}/postmortem`);
      await a.waitForSelector('#pm-tree [data-leaf]', T);
      await a.waitForFunction(() => /Fork and run/.test((document.querySelector('#pm-fork-run') || {}).textContent || ''), null, T);
      // the step before the decision: a fork there is a second branch
      // beside the one waiting at human_decision
      const chip = a.locator('#pm-tree .pm-chip', { hasText: 'dry_run_actions' }).first();
      const at = await chip.getAttribute('data-checkpoint');
      await chip.click();
      await a.waitForFunction((c) => document.querySelector('#pm-fork-ckpt').value === c, at, T);
      const preset = a.locator('#pm-presets .pm-preset', { hasText: 're-analyze with a hint' });
      await preset.waitFor(T);
      expect(await a.locator('#pm-presets .pm-preset', { hasText: 'action 1' }).count() === 1, 'an "action 1" shortcut');
      await a.locator('#pm-presets .pm-preset', { hasText: 'another model' }).click();
      expect(JSON.parse(await a.inputValue('#pm-fork-update')).operator_model === 'PROVIDER/MODEL', 'the model shortcut');
      await preset.click();
      expect(await a.inputValue('#pm-fork-as') === 'context_collector', 'as node');
      expect(JSON.parse(await a.inputValue('#pm-fork-update')).operator_hint, 'the hint in the editor');
      await a.click('#pm-fork-run');
      await a.waitForFunction(() => /ran: interrupted/.test((document.querySelector('#pm-fork-status') || {}).textContent || ''), null, { timeout: 45000 });
      await a.screenshot({ path: `${ART}/postmortem-incident.png`, fullPage: true });
      const leaves = await rows('#pm-tree [data-leaf]').count();
      expect(leaves === 2, `${leaves} branches, want 2: ${await a.locator('#pm-tree').innerText()}`);
      await a.waitForSelector('#pm-compare-diff tr[data-path="/operator_hint"]', T);
    });
  }

  await check('no script errors on the page', async () => {
    expect(errors.length === 0, errors.join(' | '));
  });
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
