// The admin panel (run status and history, clear-and-refresh behind a confirmation, settings),
// the help section, and the install page.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { adminUser, appFrame, bootOf, launch, newPage, openMain, openShell, readReady, screenshot } from '../lib/harness.mjs';

let ready;
let browser;

before(async () => {
    ready = await readReady();
    browser = await launch();
});

after(async () => {
    await browser?.context.close();
});

test('the admin panel shows the run status, history and settings', async () => {
    const admin = adminUser(ready);
    const { page, frame, api } = await openMain(browser.context, ready, admin);
    await frame.click('[data-testid=nav-admin]');
    await frame.waitForSelector('[data-testid=admin-panel]');
    const status = await api.get('/api/status');
    await frame.waitForSelector(`[data-testid=progress][data-state=${status.state}]`);
    const runs = await api.get('/api/runs');
    if (runs.items.length > 0) {
        await frame.waitForSelector('[data-testid=run-row]');
        assert.equal(await frame.locator('[data-testid=run-row]').count(), runs.items.length);
        assert.equal(Number(await frame.locator('[data-testid=run-row]').first().getAttribute('data-id')), runs.items[0].id);
    }
    const settings = await api.get('/api/settings');
    await frame.waitForSelector('[data-testid=settings-form]');
    assert.equal(Number(await frame.inputValue('[data-testid=settings-active]')), settings.activeMonths);
    assert.equal(Number(await frame.inputValue('[data-testid=settings-lost]')), settings.lostMonths);
    await screenshot(page, 'admin-panel');
});

test('clear and refresh asks for confirmation; cancel sends nothing', async () => {
    const admin = adminUser(ready);
    const { page, frame } = await openMain(browser.context, ready, admin);
    await frame.click('[data-testid=nav-admin]');
    await frame.waitForSelector('[data-testid=admin-clear]');
    const posts = [];
    page.on('request', (r) => {
        if (r.method() === 'POST' && r.url().includes('/api/clear-refresh')) {
            posts.push(r.url());
        }
    });
    await frame.click('[data-testid=admin-clear]');
    await frame.waitForSelector('[data-testid=confirm-dialog][open]');
    await screenshot(page, 'admin-clear-confirm', { fullPage: false });
    await frame.click('[data-testid=confirm-no]');
    await frame.waitForSelector('[data-testid=confirm-dialog]', { state: 'detached' });
    assert.deepEqual(posts, [], 'cancel did not call the server');
});

test('settings reject an invalid window without calling the server', async () => {
    const admin = adminUser(ready);
    const { page, frame } = await openMain(browser.context, ready, admin);
    await frame.click('[data-testid=nav-admin]');
    await frame.waitForSelector('[data-testid=settings-form]');
    const puts = [];
    page.on('request', (r) => {
        if (r.method() === 'PUT' && r.url().includes('/api/settings')) {
            puts.push(r.url());
        }
    });
    await frame.fill('[data-testid=settings-active]', '20');
    await frame.fill('[data-testid=settings-lost]', '10');
    await frame.click('[data-testid=settings-save]');
    await frame.waitForSelector('[data-testid=settings-form] [role=alert]');
    assert.deepEqual(puts, []);
});

test('help explains every segment', async () => {
    const admin = adminUser(ready);
    const { page, frame } = await openMain(browser.context, ready, admin, { lang: 'ru' });
    await frame.click('[data-testid=nav-help]');
    await frame.waitForSelector('[data-testid=help]');
    for (const mode of ['directories', 'clients', 'payments', 'frequency', 'no_payments']) {
        const text = await frame.locator(`[data-testid=help-${mode}]`).textContent();
        assert.ok(text.length > 100, `help for ${mode}`);
    }
    const help = await frame.locator('[data-testid=help-payments]').textContent();
    const settings = await (await openMain(browser.context, ready, admin)).api.get('/api/settings');
    assert.ok(help.includes(String(settings.lostMonths)), 'help uses the portal\'s windows');
    await screenshot(page, 'help');
});

test('the install page shows what the app does and the progress', async () => {
    const admin = adminUser(ready);
    const page = await newPage(browser.context);
    await openShell(page, ready, { user: admin.id, open: 'install' });
    const frame = await appFrame(page);
    const boot = await bootOf(frame);
    assert.equal(boot.view, 'install');
    await frame.waitForSelector('[data-testid=install]');
    await frame.waitForSelector('[data-testid=progress]');
    assert.equal(await frame.locator('.what li').count(), 4);
    await screenshot(page, 'install');
});
