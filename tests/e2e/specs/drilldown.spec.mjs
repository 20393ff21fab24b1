// Drill-down lists for an admin: totals equal the API's, search narrows, paging moves, CSV
// export downloads the whole filtered list, and links open the card through openPath.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import {
    adminUser, launch, listState, openDrilldown, openMain, fold, parseCsv, readReady, screenshot, searchableWords, waitList,
} from '../lib/harness.mjs';

let ready;
let browser;

before(async () => {
    ready = await readReady();
    browser = await launch();
});

after(async () => {
    await browser?.context.close();
});

test('a drill-down lists the series with the API total, and search narrows it', async () => {
    const admin = adminUser(ready);
    const { page, frame, api } = await openMain(browser.context, ready, admin);
    await openDrilldown(frame, 'directories', 'contacts');
    const all = await listState(frame);
    const apiAll = await api.get('/api/list?mode=directories&series=contacts&page=1&pageSize=25');
    assert.equal(all.total, apiAll.total, 'UI total equals API total');
    assert.deepEqual(all.rows.map((r) => r.id), apiAll.items.map((i) => i.id), 'first page equals API page');
    assert.equal(all.restricted, false, 'an admin sees everything');
    assert.ok(all.total > 1, 'the demo has several contacts');
    await screenshot(page, 'drilldown-admin');

    // A word from a listed name that narrows the list (asked of the API, so a name shared by
    // everybody, like "Contact 17", is skipped).
    let word = null;
    let row = null;
    for (const r of all.rows) {
        for (const w of searchableWords(r.name)) {
            const probe = await api.get(`/api/list?mode=directories&series=contacts&q=${encodeURIComponent(w)}&page=1&pageSize=1`);
            if (probe.total >= 1 && probe.total < all.total) {
                word = w;
                row = r;
                break;
            }
        }
        if (word) {
            break;
        }
    }
    assert.ok(word, 'some listed name has a word that narrows the list');
    await frame.fill('[data-testid=list-search]', word);
    await waitList(frame, word);
    const found = await listState(frame);
    const apiFound = await api.get(`/api/list?mode=directories&series=contacts&q=${encodeURIComponent(word)}&page=1&pageSize=25`);
    assert.equal(found.total, apiFound.total, 'UI total equals API total for the query');
    assert.ok(found.total >= 1, 'the row we took the word from is found');
    assert.ok(found.total < all.total, `search "${word}" narrows ${all.total} → ${found.total}`);
    assert.ok(found.rows.some((r) => r.id === row.id), 'the source row is among the results');
    for (const r of found.rows) {
        assert.ok(fold(r.text).includes(fold(word)), `row ${r.id} shows "${word}"`);
    }
    await screenshot(page, 'drilldown-search');

    await frame.fill('[data-testid=list-search]', 'zzqx-no-such-client-zzqx');
    await waitList(frame, 'zzqx-no-such-client-zzqx');
    assert.equal((await listState(frame)).total, 0);
    await frame.waitForSelector('[data-testid=list-empty]');
});

test('paging moves through the list', async () => {
    const admin = adminUser(ready);
    const { frame, api } = await openMain(browser.context, ready, admin);
    await openDrilldown(frame, 'clients', 'all');
    const first = await listState(frame);
    if (first.total <= 25) {
        assert.equal(await frame.locator('[data-testid=list-next]').count(), 0, 'no pager for one page');
        return;
    }
    await frame.click('[data-testid=list-next]');
    await frame.waitForFunction(() => document.querySelector('[data-testid=list-page]')?.textContent?.includes('2'));
    await waitList(frame);
    const second = await listState(frame);
    const apiSecond = await api.get('/api/list?mode=clients&series=all&page=2&pageSize=25');
    assert.deepEqual(second.rows.map((r) => r.id), apiSecond.items.map((i) => i.id));
    assert.equal(second.total, first.total);
});

test('CSV export downloads the whole filtered list', async () => {
    const admin = adminUser(ready);
    const { page, frame } = await openMain(browser.context, ready, admin);
    await openDrilldown(frame, 'directories', 'companies');
    const state = await listState(frame);
    const [download] = await Promise.all([page.waitForEvent('download'), frame.click('[data-testid=list-export]')]);
    assert.equal(download.suggestedFilename(), 'b24seg-directories-companies.csv');
    const text = await readFile(await download.path(), 'utf8');
    assert.ok(text.startsWith('\ufeff'), 'UTF-8 with BOM');
    const records = parseCsv(text.slice(1)).filter((r) => r.length > 1 || r[0] !== '');
    assert.equal(records.length - 1, state.total, 'one record per listed client plus the header');
});

test('a client link opens its card in the portal through openPath', async () => {
    const admin = adminUser(ready);
    const { page, frame } = await openMain(browser.context, ready, admin);
    await openDrilldown(frame, 'directories', 'contacts');
    const link = frame.locator('[data-testid=list-row] [data-testid=open-card]').first();
    const path = await link.getAttribute('data-path');
    const m = /^\/crm\/(contact|company)\/details\/(\d+)\/$/.exec(path);
    assert.ok(m, `link path ${path}`);
    const pagesBefore = browser.context.pages().length;
    await link.click();
    await page.waitForSelector('[data-testid=shell-slider]:not([hidden])');
    assert.equal(await page.getAttribute('[data-testid=shell-slider]', 'data-kind'), m[1]);
    assert.equal(await page.getAttribute('[data-testid=shell-slider]', 'data-id'), m[2]);
    assert.equal(browser.context.pages().length, pagesBefore, 'no new tab was opened');
    const opened = await page.evaluate(() => window.__shell.log.filter((l) => l.command === 'openPath').map((l) => l.detail.path));
    assert.deepEqual(opened, [path]);
    await screenshot(page, 'openpath-slider', { fullPage: false });
});
