// A phone-width frame (the portal's mobile app): no horizontal scroll on the main page, in a
// drill-down, on the card tab and in help.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
    adminUser, appFrame, launch, managerUser, newPage, openDrilldown, openMain, openShell, readReady, screenshot,
} from '../lib/harness.mjs';

let ready;
let browser;
const kPhone = { width: 360, height: 740 };

before(async () => {
    ready = await readReady();
    browser = await launch();
});

after(async () => {
    await browser?.context.close();
});

async function assertNoHorizontalScroll(page, frame, where) {
    const inner = await frame.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
        widest: Math.max(...[...document.body.querySelectorAll('*')].map((e) => e.getBoundingClientRect().right)),
    }));
    assert.ok(inner.scroll <= inner.client, `${where}: app scrollWidth ${inner.scroll} > ${inner.client}`);
    assert.ok(inner.widest <= inner.client + 0.5, `${where}: an element reaches ${inner.widest}px in ${inner.client}px`);
    const outer = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(outer[0] <= outer[1], `${where}: portal page scrolls sideways (${outer[0]} > ${outer[1]})`);
}

test('phone width: main page, drill-down and help fit without horizontal scroll', async () => {
    for (const user of [adminUser(ready), managerUser(ready)]) {
        const { page, frame } = await openMain(browser.context, ready, user, { viewport: kPhone, mobile: true, lang: 'de' });
        assert.equal(await frame.evaluate(() => window.innerWidth), kPhone.width, 'the frame takes the whole width');
        await frame.waitForSelector('[data-testid=chart][data-rendered=true]');
        await assertNoHorizontalScroll(page, frame, 'main');
        await screenshot(page, `phone-main-${user.isAdmin ? 'admin' : 'manager'}`, { fullPage: false });
        await openDrilldown(frame, 'payments', 'active');
        await assertNoHorizontalScroll(page, frame, 'drill-down');
        await openDrilldown(frame, 'directories', 'contacts');
        await assertNoHorizontalScroll(page, frame, 'drill-down contacts');
        await frame.locator('[data-testid=drilldown]').scrollIntoViewIfNeeded();
        await screenshot(page, `phone-drilldown-${user.isAdmin ? 'admin' : 'manager'}`, { fullPage: false });
        await frame.click('[data-testid=nav-help]');
        await frame.waitForSelector('[data-testid=help]');
        await assertNoHorizontalScroll(page, frame, 'help');
        if (user.isAdmin) {
            await frame.click('[data-testid=nav-admin]');
            await frame.waitForSelector('[data-testid=runs-table], [data-testid=admin-runs] .muted');
            await assertNoHorizontalScroll(page, frame, 'admin');
            await screenshot(page, 'phone-admin', { fullPage: false });
        }
        await page.close();
    }
});

test('phone width: the card tab fits', async () => {
    const admin = adminUser(ready);
    const { api } = await openMain(browser.context, ready, admin);
    const list = await api.get('/api/list?mode=directories&series=companies&page=1&pageSize=1');
    assert.ok(list.items.length > 0);
    const page = await newPage(browser.context, kPhone);
    await openShell(page, ready, { user: admin.id, open: `company:${list.items[0].id}`, mobile: true });
    const frame = await appFrame(page, { inSlider: true });
    await assertNoHorizontalScroll(page, frame, 'card');
    await screenshot(page, 'phone-card', { fullPage: false });
});
