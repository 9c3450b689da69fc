#!/usr/bin/env node
// Browser test of the dashboard: playwright-core drives Debian's Chromium
// against a real `leadscore serve` on a free loopback port, with a temporary
// data folder and --web-dir web/dist. Uploads ../shared/data/Leads.csv
// through the page (exit 77 = skipped when the file is absent) and checks the
// page against the API's own answers. Saves docs/screenshots/*.png.
//
//   node web/tests/browser/dashboard.mjs          (after `npm run build` in web/)
//   env: LEADSCORE_BIN (default build/leadscore), LEADS_CSV, CHROMIUM (default /usr/bin/chromium),
//        SCREENSHOTS (default docs/screenshots; "" for none)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, '../..');
const repo = resolve(webDir, '..');
const bin = process.env.LEADSCORE_BIN || join(repo, 'build/leadscore');
const csv = process.env.LEADS_CSV || resolve(repo, '../shared/data/Leads.csv');
const chromePath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = process.env.SCREENSHOTS ?? join(repo, 'docs/screenshots');
const dist = join(webDir, 'dist');

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}
function die(why) {
  console.error(`browser test: ${why}`);
  process.exit(1);
}
if (!existsSync(csv)) skip(`${csv} is absent`);
if (!existsSync(join(dist, 'index.html'))) die(`${dist}/index.html is missing: run "npm ci && npm run build" in web/ first`);
if (!existsSync(bin)) die(`${bin} is missing: build leadscore first`);
if (!existsSync(chromePath)) die(`${chromePath} is missing: apt-get install chromium fonts-liberation`);

const results = [];
let failed = 0;
async function step(name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    results.push(`ok    ${name}${note ? ` — ${note}` : ''} (${Date.now() - t0} ms)`);
    console.log(results.at(-1));
    return true;
  } catch (e) {
    failed++;
    results.push(`FAIL  ${name}: ${e && e.message ? e.message.split('\n')[0] : e}`);
    console.log(results.at(-1));
    return false;
  }
}
function assertEq(a, b, what) {
  if (a !== b) throw new Error(`${what}: page shows ${JSON.stringify(a)}, API says ${JSON.stringify(b)}`);
}
const nf = new Intl.NumberFormat('en-US');

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// RFC 4180 records (quoted fields may hold commas, quotes and newlines).
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let inQ = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQ) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQ = false;
      } else field += c;
    } else if (c === '"') inQ = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const tmp = mkdtempSync(join(tmpdir(), 'ls-browser-'));
const dataDir = join(tmp, 'data');
mkdirSync(dataDir);
let serverLog = '';
const server = spawn(bin, ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--web-dir', dist], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
server.stderr.on('data', (d) => {
  serverLog = (serverLog + d).slice(-20000);
});
let context;

async function cleanup() {
  if (context) await context.close().catch(() => {});
  if (server.exitCode == null) {
    server.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => {
        server.kill('SIGKILL');
        r();
      }, 10000);
      server.on('exit', () => {
        clearTimeout(t);
        r();
      });
    });
  }
  rmSync(tmp, { recursive: true, force: true });
}

const api = async (path) => {
  const r = await fetch(base + path);
  if (!r.ok) throw new Error(`GET ${path}: ${r.status}`);
  return r.json();
};

try {
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`${base}/api/health`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (server.exitCode != null || i > 100) die(`the server did not start:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: chromePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(30000);
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  if (shots) mkdirSync(shots, { recursive: true });
  const shot = async (name, opts = {}) => {
    await page.mouse.move(5, (page.viewportSize() || { height: 900 }).height - 5); // no tooltip in the picture
    await page.waitForTimeout(150);
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`), ...opts });
  };

  let runId = null;
  let leadSources = [];
  let run = null;

  await step('upload Leads.csv through the page', async () => {
    await page.goto(`${base}/#/upload`);
    await page.getByLabel('CSV file of leads').setInputFiles(csv);
    await page.getByRole('button', { name: 'Score leads' }).waitFor();
    const target = await page.getByLabel('Outcome column (target)').inputValue();
    assertEq(target, 'Converted', 'target');
    const leaky = await page.getByRole('checkbox', { name: /Keep “Tags”/ }).isChecked();
    if (leaky) throw new Error('the leaky column Tags is kept by default');
    await page.setViewportSize({ width: 1280, height: 1180 });
    await shot('upload');
    await page.setViewportSize({ width: 1280, height: 900 });
    return 'target Converted, Tags flagged';
  });

  await step('score leads, then the dashboard', async () => {
    await page.getByRole('button', { name: 'Score leads' }).click();
    await page.waitForURL(/#\/dashboard\/\d+/, { timeout: 120000 });
    const t0 = Date.now();
    await page.getByTestId('stat-total').waitFor();
    const t1 = Date.now();
    await page.locator('[data-testid="lead-id"]').first().waitFor();
    const t2 = Date.now();
    runId = Number(page.url().match(/#\/dashboard\/(\d+)/)[1]);
    run = await api(`/api/runs/${runId}`);
    // measured inside the page: from the poll that saw the run done to the first page of leads on screen
    const ms = await page.evaluate(() => {
      const a = performance.getEntriesByName('ls:run-done')[0];
      const b = performance.getEntriesByName('ls:leads-shown')[0];
      return a && b ? Math.round(b.startTime - a.startTime) : null;
    });
    return `run ${runId}: first page of leads on screen ${ms} ms after the run finished (in the page; playwright saw it after ${t2 - t0} ms)`;
  });

  await step('total, tier counts and first lead equal the API', async () => {
    const s = run.summary;
    assertEq(await page.getByTestId('stat-total').innerText(), nf.format(s.total), 'total');
    assertEq(await page.getByTestId('stat-high').innerText(), nf.format(s.tiers.High), 'High');
    assertEq(await page.getByTestId('stat-tiers').innerText(), `Medium ${nf.format(s.tiers.Medium)} · Low ${nf.format(s.tiers.Low)}`, 'Medium/Low');
    const first = (await api(`/api/runs/${runId}/leads?sort=rank&order=asc&offset=0&limit=1`)).leads[0];
    assertEq(await page.getByTestId('lead-id').first().innerText(), first.id, 'first lead');
    assertEq(await page.getByTestId('page-range').innerText(), `1–25 of ${nf.format(s.total)}`, 'page range');
    return `${s.total} leads, High ${s.tiers.High}, first ${first.id}`;
  });

  await page.setViewportSize({ width: 1280, height: 1800 });
  await page.waitForTimeout(400);
  await shot('dashboard');
  await page.setViewportSize({ width: 1280, height: 900 });

  const waitLeads = (pred) => page.waitForResponse((r) => r.url().includes(`/api/runs/${runId}/leads?`) && pred(new URL(r.url()).searchParams));

  await step('sort by score ascending and page forward', async () => {
    const scoreHeader = page.getByRole('button', { name: /^Score/ });
    let w = waitLeads((p) => p.get('sort') === 'score' && p.get('order') === 'desc');
    await scoreHeader.click();
    await w;
    w = waitLeads((p) => p.get('sort') === 'score' && p.get('order') === 'asc');
    await scoreHeader.click();
    await w;
    const api1 = (await api(`/api/runs/${runId}/leads?sort=score&order=asc&offset=0&limit=25`)).leads;
    await page.waitForFunction((id) => document.querySelector('[data-testid="lead-id"]')?.textContent === id, api1[0].id);
    w = waitLeads((p) => p.get('offset') === '25');
    await page.getByRole('button', { name: 'Next →' }).click();
    await w;
    const api2 = (await api(`/api/runs/${runId}/leads?sort=score&order=asc&offset=25&limit=25`)).leads;
    await page.waitForFunction((id) => document.querySelector('[data-testid="lead-id"]')?.textContent === id, api2[0].id);
    assertEq(await page.getByTestId('page-range').innerText(), `26–50 of ${nf.format(run.summary.total)}`, 'page range');
    const sortState = await page.locator('th[aria-sort="ascending"]').innerText();
    if (!/score/i.test(sortState)) throw new Error(`sorted column shows ${sortState}`);
    return `page 2 starts with ${api2[0].id} (score ${api2[0].score})`;
  });

  await step('filter to High', async () => {
    const w = waitLeads((p) => p.get('tier') === 'High');
    await page.getByRole('group', { name: 'Filter by tier' }).getByRole('button', { name: 'High' }).click();
    await w;
    await page.waitForFunction(() => /of /.test(document.querySelector('[data-testid="page-range"]')?.textContent || ''));
    assertEq(await page.getByTestId('page-range').innerText(), `1–25 of ${nf.format(run.summary.tiers.High)}`, 'High page range');
    const tiers = await page.locator('table[aria-label="Leads table"] tbody tr td:nth-child(3)').allInnerTexts();
    if (!tiers.length || tiers.some((t) => t.trim() !== 'High')) throw new Error(`tiers shown: ${[...new Set(tiers)].join(', ')}`);
    return `${run.summary.tiers.High} High leads, ${tiers.length} on the page`;
  });

  await step('open a lead and see its waterfall', async () => {
    const sortAsc = page.getByRole('button', { name: /^Score/ });
    const w = waitLeads((p) => p.get('order') === 'desc' && p.get('tier') === 'High');
    await sortAsc.click(); // best High leads first for the screenshot
    await w;
    await page.waitForTimeout(200);
    const firstId = await page.getByTestId('lead-id').first().innerText();
    await page.getByTestId('lead-id').first().click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByTestId('waterfall').waitFor();
    const bars = await dialog.getByTestId('waterfall').locator('> div > div').count();
    if (bars < 4) throw new Error(`waterfall has ${bars} steps`);
    const title = await dialog.locator('#lead-title').innerText();
    if (!title.includes(firstId)) throw new Error(`drawer title ${title}, expected ${firstId}`);
    await shot('lead');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    return `${firstId}: ${bars} steps`;
  });

  await step('the open lead is in the URL: Back closes it, a reload keeps table and lead', async () => {
    await page.getByTestId('lead-id').nth(1).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const hash = await page.evaluate(() => window.location.hash);
    if (!/[?&]lead=\d+/.test(hash) || !/tier=High/.test(hash) || !/order=desc/.test(hash)) throw new Error(`hash ${hash}`);
    await page.goBack();
    await dialog.waitFor({ state: 'detached' });
    const back = await page.evaluate(() => window.location.hash);
    if (/lead=/.test(back)) throw new Error(`after Back the hash is ${back}`);
    // a reload of a link with a lead: the same filtered, sorted page and the drawer
    const w = waitLeads((p) => p.get('tier') === 'High' && p.get('sort') === 'score' && p.get('order') === 'desc');
    await page.goto(`${base}/${hash}`);
    await page.reload();
    await w;
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    const pressed = await page.getByRole('group', { name: 'Filter by tier' }).getByRole('button', { name: 'High' }).getAttribute('aria-pressed');
    assertEq(pressed, 'true', 'High filter after reload');
    return hash;
  });

  await step('export follows the filter: the High leads, then every lead', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const file = join(tmp, 'export-high.csv');
    await dl.saveAs(file);
    const records = parseCsv(readFileSync(file, 'utf8'));
    assertEq(records.length - 1, run.summary.tiers.High, 'exported High rows');
    const ti = records[0].indexOf('tier');
    if (records.slice(1).some((r) => r[ti] !== 'High')) throw new Error('a non-High lead in the High export');
    const w = waitLeads((p) => !p.get('tier'));
    await page.getByRole('group', { name: 'Filter by tier' }).getByRole('button', { name: 'All' }).click();
    await w;
    await page.getByTestId('export').filter({ hasText: `Export all ${nf.format(run.summary.total)} leads` }).waitFor();
    return `${nf.format(records.length - 1)} High rows`;
  });

  await step('the table fits at 1280 and 1024 px; at 800 px only the table scrolls sideways', async () => {
    const notes = [];
    for (const width of [1280, 1024, 800]) {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForTimeout(300);
      const m = await page.evaluate(() => {
        const box = document.querySelector('[data-testid="table-scroll"]');
        const reasons = document.querySelector('table[aria-label="Leads table"] thead th:last-child');
        const r = reasons.getBoundingClientRect();
        const rows = [...document.querySelectorAll('table[aria-label="Leads table"] tbody tr')].map((tr) => tr.getBoundingClientRect().height);
        return {
          page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          table: box.scrollWidth - box.clientWidth,
          boxBottom: box.getBoundingClientRect().bottom,
          reasonsRight: r.right,
          reasonsWidth: r.width,
          viewport: window.innerWidth,
          tallest: Math.max(...rows),
        };
      });
      if (m.page > 0) throw new Error(`${width} px: the page scrolls sideways by ${m.page} px`);
      if (width >= 1024 && m.table > 0) throw new Error(`${width} px: the table scrolls sideways by ${m.table} px`);
      if (width >= 1024 && (m.reasonsRight > m.viewport || m.reasonsWidth < 240)) throw new Error(`${width} px: Top reasons ${Math.round(m.reasonsWidth)} px wide, right edge ${Math.round(m.reasonsRight)}`);
      if (m.tallest > 100) throw new Error(`${width} px: a row is ${Math.round(m.tallest)} px tall`);
      if (width === 1024) {
        await page.evaluate(() => document.querySelector('section[aria-label="Leads"]').scrollIntoView());
        await shot('dashboard-1024');
      }
      notes.push(`${width}: table overflow ${m.table} px, rows ≤ ${Math.round(m.tallest)} px`);
    }
    await page.setViewportSize({ width: 800, height: 900 });
    await page.goto(`${base}/#/history`);
    await page.getByRole('button', { name: `Open run ${runId}` }).waitFor();
    const hist = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (hist > 0) throw new Error(`800 px: History scrolls sideways by ${hist} px`);
    const right = await page.getByRole('button', { name: `Delete run ${runId}` }).evaluate((b) => b.getBoundingClientRect().right);
    const inBox = await page.getByRole('button', { name: `Delete run ${runId}` }).evaluate((b) => {
      const box = b.closest('.overflow-x-auto');
      return b.getBoundingClientRect().right <= box.getBoundingClientRect().right + 1;
    });
    if (!inBox) throw new Error(`800 px: History's Delete button is off-screen (right ${right})`);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${base}/#/dashboard/${runId}`);
    await page.getByTestId('stat-total').waitFor();
    return notes.join('; ');
  });

  await step('export CSV of every lead', async () => {
    await page.getByTestId('export').filter({ hasText: 'Export all' }).waitFor();
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const file = join(tmp, 'export.csv');
    await dl.saveAs(file);
    const records = parseCsv(readFileSync(file, 'utf8'));
    const rows = records.length - 1;
    assertEq(rows, 9237, 'exported rows');
    const col = records[0].indexOf('Lead Source');
    if (col < 0) throw new Error('the export has no Lead Source column');
    leadSources = [...new Set(records.slice(1).map((r) => r[col]).filter((v) => v && v.length > 2))];
    return `${nf.format(rows)} rows`;
  });

  await step('chat: "Which lead source converts best?" streams an answer naming a source', async () => {
    await page.goto(`${base}/#/chat/${runId}`);
    const q = 'Which lead source converts best?';
    await page.getByRole('button', { name: q }).waitFor();
    const resp = page.waitForResponse((r) => r.url().endsWith(`/api/runs/${runId}/chat`) && r.request().method() === 'POST');
    await page.getByRole('button', { name: q }).click();
    const r = await resp;
    const type = r.headers()['content-type'] || '';
    if (r.status() !== 200 || !type.includes('text/event-stream')) {
      await page.waitForTimeout(300);
      await shot('chat');
      throw new Error(`POST /api/runs/${runId}/chat answered ${r.status()} ${type} (the chat route arrives with issue 11)`);
    }
    const msg = page.getByTestId('assistant-message').last();
    await msg.getByTestId('answer-text').waitFor({ timeout: 90000 });
    await page.waitForFunction(() => !/Answering/.test(document.querySelector('form button[type="submit"]')?.textContent || ''), null, { timeout: 120000 });
    const text = await msg.getByTestId('answer-text').innerText();
    const named = leadSources.sort((a, b) => b.length - a.length).find((v) => text.toLowerCase().includes(v.toLowerCase()));
    await shot('chat');
    if (!named) throw new Error(`the answer names no lead source: ${text.slice(0, 200)}`);
    return `names "${named}"`;
  });

  await step('reopen the run from History', async () => {
    await page.goto(`${base}/#/upload`);
    await page.getByRole('link', { name: /History/ }).click();
    await page.getByRole('button', { name: `Open run ${runId}` }).click();
    await page.waitForURL(new RegExp(`#/dashboard/${runId}$`));
    await page.getByTestId('stat-total').waitFor();
    assertEq(await page.getByTestId('stat-total').innerText(), nf.format(run.summary.total), 'total after reopening');
    return `run ${runId}`;
  });

  await step('no uncaught page errors', async () => {
    if (consoleErrors.length) throw new Error(consoleErrors.join(' | '));
  });
} catch (e) {
  failed++;
  console.log(`FAIL  ${e && e.stack ? e.stack : e}`);
} finally {
  await cleanup();
}

const passed = results.filter((r) => r.startsWith('ok')).length;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
