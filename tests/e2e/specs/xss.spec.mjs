// CRM data is untrusted text: the demo's contact named "<img src=x onerror=alert(1)>" is shown
// as those characters, in lists and on its card, and nothing runs.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
    adminUser, appFrame, launch, listState, newPage, openDrilldown, openMain, openShell, readReady, screenshot, waitList,
} from '../lib/harness.mjs';

let ready;
let browser;
const kNeedle = 'onerror';

before(async () => {
    ready = await readReady();
    browser = await launch();
});

after(async () => {
    await browser?.context.close();
});

test('the XSS-named contact renders as text in a drill-down and on its card', async () => {
    const admin = adminUser(ready);
    const { page, frame, api } = await openMain(browser.context, ready, admin);
    const found = await api.get(`/api/list?mode=directories&series=contacts&q=${kNeedle}&page=1&pageSize=25`);
    const xss = found.items.find((i) => i.name.includes('<img'));
    assert.ok(xss, 'the demo has a contact whose name holds markup');

    await openDrilldown(frame, 'directories', 'contacts');
    await frame.fill('[data-testid=list-search]', kNeedle);
    await waitList(frame, kNeedle);
    const state = await listState(frame);
    const row = state.rows.find((r) => r.id === xss.id);
    assert.ok(row, 'the contact is listed');
    assert.equal(row.name, xss.name, 'the name is shown character for character');
    assert.equal(await frame.locator('[data-testid=drilldown] img').count(), 0, 'no <img> element was created');
    await screenshot(page, 'xss-drilldown');

    const cardPage = await newPage(browser.context);
    await openShell(cardPage, ready, { user: admin.id, open: `contact:${xss.id}` });
    const card = await appFrame(cardPage, { inSlider: true });
    assert.equal(await card.locator('[data-testid=card-name]').textContent(), xss.name);
    assert.equal(await card.locator('img').count(), 0);
    await screenshot(cardPage, 'xss-card', { fullPage: false });

    assert.deepEqual(browser.dialogs, [], 'no alert() ran');
    assert.deepEqual(browser.errors, [], 'no page errors');
});
