// A non-admin manager: the main page loads, counters are the same as the admin's, drill-downs
// show only the manager's own clients (and say so), and there is no admin panel — which the
// server refuses anyway.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
    adminUser, launch, listState, managerUser, openDrilldown, openMain, readReady, screenshot,
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
