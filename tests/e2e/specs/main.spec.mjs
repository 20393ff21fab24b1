// The main page for an admin: it loads inside the portal, every mode's counters equal the API's,
// the chart has one point per month, hovering shows the exact numbers, and the first screen
// time is measured and printed.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
    adminUser, fmt, kModes, launch, newPage, openMain, openShell, readReady, screenshot, writeArtifact,
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

test('first screen time: navigation start to counters and chart visible', async () => {
    const admin = adminUser(ready);
    const samples = [];
    for (let i = 0; i < 3; i++) {
        const page = await newPage(browser.context);
        await openShell(page, ready, { user: admin.id });
        const handle = await page.waitForSelector('#page > iframe[data-testid=app-frame]');
        const frame = await handle.contentFrame();
        await frame.waitForSelector('body[data-first-screen=done]');
        await frame.waitForSelector('[data-testid=chart][data-rendered=true]');
        const visible = await frame.evaluate(() => {
            const c = document.querySelector('[data-testid=counters]').getBoundingClientRect();
            const ch = document.querySelector('[data-testid=chart] canvas').getBoundingClientRect();
            return c.height > 0 && ch.height > 0;
        });
        assert.ok(visible, 'counters and chart are laid out');
        // The frame's own clock starts at its navigation (the portal's form POST to our server).
        const ms = await frame.evaluate(() => performance.getEntriesByName('b24seg:first-screen')[0]?.startTime ?? -1);
        assert.ok(ms > 0, 'the page marked its first screen');
        samples.push(Math.round(ms));
        await page.close();
    }
    const median = [...samples].sort((a, b) => a - b)[1];
    console.log(`first-screen: median ${median} ms (samples ${samples.join(', ')} ms; navigation start → counters and chart visible)`);
    await writeArtifact('first-screen.json', { samples, medianMs: median });
});

test('main page loads for an admin, counters equal the API, chart has one point per month', async () => {
    const admin = adminUser(ready);
    const { page, frame, boot, api } = await openMain(browser.context, ready, admin);
    assert.equal(boot.view, 'main');
    assert.equal(boot.user.isAdmin, true);
    const dash = await api.get('/api/dashboard');
    assert.deepEqual(dash.modes.map((m) => m.id), Object.keys(kModes));
    assert.ok(dash.months.length > 0, 'the demo has months');

    for (const mode of dash.modes) {
        await frame.click(`[data-testid=mode-${mode.id}]`);
        await frame.waitForSelector(`[data-testid=counters][data-mode=${mode.id}]`);
        for (const s of mode.series) {
            const counter = frame.locator(`[data-testid=counter-${mode.id}-${s.id}]`);
            assert.equal(Number(await counter.getAttribute('data-value')), s.count, `${mode.id}/${s.id} counter`);
            const shown = await counter.locator('.counter-value').textContent();
            assert.equal(shown, await fmt(frame, boot.lang, s.count), `${mode.id}/${s.id} formatted`);
            assert.equal(s.values.length, dash.months.length, `${mode.id}/${s.id} has one value per month`);
        }
        const chart = frame.locator('[data-testid=chart]');
        await frame.waitForSelector('[data-testid=chart][data-rendered=true]');
        assert.equal(Number(await chart.getAttribute('data-points')), dash.months.length, `${mode.id} chart points`);
        assert.equal(Number(await chart.getAttribute('data-series')), mode.series.length, `${mode.id} chart series`);
        await screenshot(page, `main-${mode.id}`);
    }

    // Hover over the right half of the plot: the tooltip names a month and shows that month's
    // exact numbers from the API.
    const mode = dash.modes.find((m) => m.id === 'no_payments');
    await frame.click('[data-testid=mode-no_payments]');
    await frame.waitForSelector('[data-testid=chart][data-rendered=true]');
    const over = await frame.locator('.u-over').boundingBox();
    await page.mouse.move(over.x + over.width * 0.75, over.y + over.height / 2);
    const tip = frame.locator('[data-testid=chart-tooltip]');
    await tip.waitFor({ state: 'visible' });
    const idx = Number(await tip.getAttribute('data-index'));
    assert.ok(idx >= 0 && idx < dash.months.length, 'tooltip index is a month');
    const values = await tip.locator('.chart-tip-value').allTextContents();
    const expected = [];
    for (const s of mode.series) {
        expected.push(await fmt(frame, boot.lang, s.values[idx]));
    }
    assert.deepEqual(values, expected);
    await screenshot(page, 'main-chart-hover', { fullPage: false });

    // Smoothness: sweep the cursor across the plot, one move per animation frame, and report
    // the frame times (printed, not asserted: speed is measured, not unit-tested).
    const frames = await frame.evaluate(async () => {
        const over = document.querySelector('.u-over');
        const r = over.getBoundingClientRect();
        const steps = 120;
        const times = [];
        let last = performance.now();
        for (let i = 0; i <= steps; i++) {
            over.dispatchEvent(new MouseEvent('mousemove', {
                clientX: r.left + (r.width * i) / steps, clientY: r.top + r.height / 2, bubbles: true,
            }));
            await new Promise((res) => requestAnimationFrame(res));
            const now = performance.now();
            times.push(now - last);
            last = now;
        }
        return times;
    });
    const sorted = [...frames].sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)].toFixed(1);
    const max = sorted[sorted.length - 1].toFixed(1);
    console.log(`chart hover: ${dash.months.length} months × ${mode.series.length} series, frame time median ${p50} ms, worst ${max} ms over ${frames.length} frames`);
    await writeArtifact('chart-hover.json', { months: dash.months.length, series: mode.series.length, frameMs: frames });
    assert.deepEqual(browser.errors, [], 'no page errors');
});

test('the CRM analytics menu entry opens the same main page', async () => {
    const admin = adminUser(ready);
    const { frame, boot } = await openMain(browser.context, ready, admin, { open: 'analytics' });
    assert.equal(boot.placement, 'CRM_ANALYTICS_MENU');
    assert.equal(boot.view, 'main');
    await frame.waitForSelector('[data-testid=counters]');
});

test('the page follows the portal language (ru, de, pl)', async () => {
    const admin = adminUser(ready);
    const titles = { ru: 'Сегментация клиентов', de: 'Kundensegmentierung', pl: 'Segmentacja klientów' };
    for (const [lang, title] of Object.entries(titles)) {
        const { page, frame, boot } = await openMain(browser.context, ready, admin, { lang });
        assert.equal(boot.lang, lang);
        assert.equal(await frame.evaluate(() => document.documentElement.lang), lang);
        assert.equal(await frame.locator('.app-title').textContent(), title);
        const dashCount = Number(await frame.locator('[data-testid=counter-directories-contacts]').getAttribute('data-value'));
        assert.equal(await frame.locator('[data-testid=counter-directories-contacts] .counter-value').textContent(), await fmt(frame, lang, dashCount));
        await screenshot(page, `main-${lang}`, { fullPage: false });
        await page.close();
    }
});
