// A non-admin manager: the main page loads, counters are the same as the admin's, drill-downs
// show only the manager's own clients (and say so), there is no admin panel — which the
// server refuses anyway —, and linked records the manager may not read (a company's contact
// persons) are shown as hidden: no name, no link.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
    adminUser, appFrame, launch, listState, managerUser, newPage, openDrilldown, openMain, openShell,
    readReady, screenshot,
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

test('the main page loads for a non-admin with the same counters', async () => {
    const manager = managerUser(ready);
    const { page, frame, boot, api } = await openMain(browser.context, ready, manager);
    assert.equal(boot.user.isAdmin, false);
    assert.equal(boot.user.id, manager.id);
    const dash = await api.get('/api/dashboard');
    const admin = await openMain(browser.context, ready, adminUser(ready));
    const adminDash = await admin.api.get('/api/dashboard');
    assert.deepEqual(dash.modes, adminDash.modes, 'counts and charts are the same for every user');
    for (const s of dash.modes[0].series) {
        assert.equal(Number(await frame.locator(`[data-testid=counter-directories-${s.id}]`).getAttribute('data-value')), s.count);
    }
    await screenshot(page, 'main-manager');
});

test('the admin panel is absent for a non-admin, and the server refuses admin calls', async () => {
    const manager = managerUser(ready);
    const { frame, api } = await openMain(browser.context, ready, manager);
    assert.equal(await frame.locator('[data-testid=nav-admin]').count(), 0, 'no admin tab');
    assert.equal(await frame.locator('[data-testid=admin-panel]').count(), 0, 'no admin panel');
    assert.equal(await frame.locator('[data-testid=admin-clear]').count(), 0, 'no clear button');
    for (const [method, path, body] of [['GET', '/api/runs'], ['POST', '/api/clear-refresh', {}], ['POST', '/api/runs', { full: false }]]) {
        const r = await api.call(method, path, body);
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.equal(r.json?.error?.code, 'forbidden');
    }
});

test("a non-admin's drill-down shows only their own clients", async () => {
    const manager = managerUser(ready);
    const { page, frame, api } = await openMain(browser.context, ready, manager);
    await openDrilldown(frame, 'directories', 'contacts');
    const mine = await listState(frame);
    assert.equal(mine.restricted, true, 'the list says it is restricted');
    await frame.waitForSelector('[data-testid=list-restricted]');
    const apiMine = await api.get('/api/list?mode=directories&series=contacts&page=1&pageSize=100');
    assert.equal(apiMine.restricted, true);
    assert.equal(mine.total, apiMine.total, 'UI total equals the API total for this user');
    for (const r of mine.rows) {
        assert.equal(r.assignedBy, String(manager.id), `row ${r.kind} ${r.id} belongs to the manager`);
    }
    for (const item of apiMine.items) {
        assert.equal(item.assignedBy?.id, manager.id, `API item ${item.id} belongs to the manager`);
    }
    const admin = await openMain(browser.context, ready, adminUser(ready));
    const all = await admin.api.get('/api/list?mode=directories&series=contacts&page=1&pageSize=1');
    assert.ok(mine.total < all.total, `manager sees ${mine.total} of ${all.total}`);
    await screenshot(page, 'drilldown-manager');
});

test("a company's contact persons the manager may not read are shown as hidden on the card tab", async () => {
    const manager = managerUser(ready);
    const { api } = await openMain(browser.context, ready, manager);
    // The manager's companies; the first one with a contact person of someone else's.
    let company = null;
    let client = null;
    for (let page = 1; page <= 20 && !client; ++page) {
        const list = await api.get(`/api/list?mode=directories&series=companies&page=${page}&pageSize=100`);
        for (const item of list.items) {
            const c = await api.get(`/api/client?kind=company&id=${item.id}`);
            if ((c.members ?? []).some((m) => m.hidden === true)) {
                company = item;
                client = c;
                break;
            }
        }
        if (list.items.length < 100) {
            break;
        }
    }
    assert.ok(client, 'the demo has a company of the manager with a contact person of someone else');
    for (const m of client.members) {
        assert.ok(m.hidden === true ? !('name' in m) && !('id' in m) : typeof m.name === 'string');
    }
    const admin = await openMain(browser.context, ready, adminUser(ready));
    const full = await admin.api.get(`/api/client?kind=company&id=${company.id}`);
    assert.ok(full.members.every((m) => m.hidden !== true), 'the admin sees every contact person');
    assert.equal(full.members.length, client.members.length);

    const page = await newPage(browser.context);
    await openShell(page, ready, { user: manager.id, open: `company:${company.id}` });
    const frame = await appFrame(page, { inSlider: true });
    const hidden = client.members.filter((m) => m.hidden === true).length;
    assert.equal(await frame.locator('[data-testid=card-member-hidden]').count(), hidden);
    assert.equal(await frame.locator('[data-testid=card-member]').count(), client.members.length - hidden);
    assert.equal((await frame.locator('[data-testid=card-member-hidden]').first().textContent()).trim(), 'No access');
    assert.equal(await frame.locator('[data-testid=card-members] [data-testid=card-member-hidden] a').count(), 0);
    await screenshot(page, 'card-hidden-members', { fullPage: false });
    await page.close();
});
