// The tab on contact and company cards shows the right client.

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

for (const [kind, series] of [['contact', 'contacts'], ['company', 'companies']]) {
    test(`the ${kind} card tab shows that ${kind}`, async () => {
        const admin = adminUser(ready);
        const { api } = await openMain(browser.context, ready, admin);
        const list = await api.get(`/api/list?mode=directories&series=${series}&page=1&pageSize=5`);
        const item = list.items.find((i) => i.kind === kind) ?? list.items[0];
        assert.ok(item, `the demo has a ${kind}`);
        const page = await newPage(browser.context);
        await openShell(page, ready, { user: admin.id, open: `${kind}:${item.id}` });
        const frame = await appFrame(page, { inSlider: true });
        const boot = await bootOf(frame);
        assert.equal(boot.view, 'card');
        assert.deepEqual(boot.entity, { kind, id: item.id });
        assert.equal(boot.placement, kind === 'company' ? 'CRM_COMPANY_DETAIL_TAB' : 'CRM_CONTACT_DETAIL_TAB');
        const client = await api.get(`/api/client?kind=${kind}&id=${item.id}`);
        const name = frame.locator('[data-testid=card-name]');
        assert.equal(await name.textContent(), client.name || `#${client.id}`);
        assert.equal(await name.getAttribute('data-kind'), kind);
        assert.equal(Number(await name.getAttribute('data-id')), item.id);
        if (client.lifecycle) {
            assert.ok((await frame.locator('[data-testid=card-lifecycle]').textContent()).length > 0);
        }
        assert.equal(await frame.locator('[data-testid=card-payment]').count(), client.paymentsList?.length ?? 0);
        await screenshot(page, `card-${kind}`, { fullPage: false });
        await page.close();
    });
}
