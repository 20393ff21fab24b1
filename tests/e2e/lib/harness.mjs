// Shared helpers for the browser tests: the demo's ready.json, Debian's Chromium through
// playwright-core, the portal shell, the app's iframe, and direct calls to the app's JSON API
// with a session obtained the way the page gets it (from the boot object).

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const artifactsDir = path.resolve(here, '..', 'artifacts');

export const kChromiumArgs = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
];

const kTimeoutMs = 20_000;

/** The demo's ready.json (path in B24SEG_READY, written by tests/e2e/run.sh's demo). */
export async function readReady() {
    const file = process.env.B24SEG_READY;
    assert.ok(file, 'B24SEG_READY must name the demo ready.json (use tests/e2e/run.sh)');
    const ready = JSON.parse(await readFile(file, 'utf8'));
    for (const key of ['appUrl', 'portalUrl', 'shellUrl', 'users']) {
        assert.ok(ready[key], `ready.json lacks ${key}`);
    }
    return ready;
}

export function adminUser(ready) {
    const u = ready.users.find((x) => x.isAdmin);
    assert.ok(u, 'the demo has no admin user');
    return u;
}

/** A non-admin with "own" CRM read rights (ready.json may say crmRead; absent means own). */
export function managerUser(ready) {
    const u = ready.users.find((x) => !x.isAdmin && (x.crmRead ?? 'own') === 'own');
    assert.ok(u, 'the demo has no non-admin user');
    return u;
}

/**
 * Starts Debian's Chromium with a fresh profile directory. Returns the persistent context; its
 * close() also removes the profile. Every page records dialogs (alert, confirm) in `dialogs`,
 * page errors in `errors`, so tests can assert that nothing ran that should not have.
 */
export async function launch() {
    const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'b24seg-e2e-profile-'));
    const executablePath = process.env.B24SEG_CHROMIUM ?? '/usr/bin/chromium';
    const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath,
        headless: true,
        args: kChromiumArgs,
        viewport: { width: 1280, height: 900 },
        acceptDownloads: true,
        timeout: kTimeoutMs,
    });
    context.setDefaultTimeout(kTimeoutMs);
    const dialogs = [];
    const errors = [];
    context.on('page', (page) => watch(page, dialogs, errors));
    for (const page of context.pages()) {
        watch(page, dialogs, errors);
    }
    const close = context.close.bind(context);
    context.close = async () => {
        await close();
        await rm(userDataDir, { recursive: true, force: true });
    };
    return { context, dialogs, errors };
}

function watch(page, dialogs, errors) {
    page.on('dialog', (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`);
        void d.dismiss().catch(() => undefined);
    });
    page.on('pageerror', (e) => errors.push(String(e?.message ?? e)));
    // Messages of every frame arrive here; a CSP refusal means the page needs something the
    // server's policy does not allow.
    page.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) {
            errors.push(`CSP: ${m.text()}`);
        }
    });
}

export async function newPage(context, viewport = { width: 1280, height: 900 }) {
    const page = await context.newPage();
    await page.setViewportSize(viewport);
    return page;
}

/** Opens the portal shell: user id, lang, what to open (app, analytics, contact:ID …), phone mode. */
export async function openShell(page, ready, { user, lang = 'en', open = 'app', mobile = false, tab } = {}) {
    const url = new URL(ready.shellUrl);
    url.searchParams.set('user', String(user));
    url.searchParams.set('lang', lang);
    url.searchParams.set('open', open);
    if (mobile) {
        url.searchParams.set('mobile', '1');
    }
    if (tab) {
        url.searchParams.set('tab', tab);
    }
    await page.goto(url.toString());
}

/** The app's iframe (the main page's, or the card tab's inside the slider), once its first screen is up. */
export async function appFrame(page, { inSlider = false } = {}) {
    const selector = inSlider
        ? '[data-testid=shell-slider] iframe[data-testid=app-frame]'
        : '#page > iframe[data-testid=app-frame]';
    const handle = await page.waitForSelector(selector);
    const frame = await handle.contentFrame();
    assert.ok(frame, 'app iframe has no content frame');
    await frame.waitForSelector('body[data-first-screen=done]');
    return frame;
}

/** The boot object the server injected into the page. */
export async function bootOf(frame) {
    return frame.evaluate(() => JSON.parse(document.getElementById('b24seg-boot').textContent));
}

/** A tiny client for the app's JSON API, with a session taken from a page's boot object. */
export function apiClient(ready, session) {
    const call = async (method, pathAndQuery, body) => {
        const res = await fetch(new URL(pathAndQuery, ready.appUrl), {
            method,
            headers: {
                Authorization: `Bearer ${session}`,
                ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
            },
            body: body !== undefined ? JSON.stringify(body) : undefined,
        });
        const text = await res.text();
        let json = null;
        try {
            json = text ? JSON.parse(text) : null;
        } catch {
            json = null;
        }
        return { status: res.status, json, text, headers: res.headers };
    };
    return {
        call,
        async get(pathAndQuery) {
            const r = await call('GET', pathAndQuery);
            assert.equal(r.status, 200, `GET ${pathAndQuery} → ${r.status} ${r.text.slice(0, 200)}`);
            return r.json;
        },
    };
}

/** Opens the main page for `user` in the shell and returns {page, frame, api, boot}. */
export async function openMain(context, ready, user, opts = {}) {
    const page = await newPage(context, opts.viewport);
    await openShell(page, ready, { user: user.id, lang: opts.lang ?? 'en', open: opts.open ?? 'app', mobile: opts.mobile });
    const frame = await appFrame(page);
    const boot = await bootOf(frame);
    return { page, frame, boot, api: apiClient(ready, boot.session) };
}

export async function screenshot(page, name, opts = {}) {
    await mkdir(artifactsDir, { recursive: true });
    const file = path.join(artifactsDir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: opts.fullPage ?? true });
    return file;
}

export async function writeArtifact(name, data) {
    await mkdir(artifactsDir, { recursive: true });
    await writeFile(path.join(artifactsDir, name), typeof data === 'string' ? data : JSON.stringify(data, null, 2));
}

/** Number formatting as the page should do it: Intl in the browser, in the page's language. */
export async function fmt(frame, lang, n) {
    return frame.evaluate(([l, v]) => new Intl.NumberFormat(l).format(v), [lang, n]);
}

export const kModes = {
    directories: ['contacts', 'companies'],
    clients: ['all', 'b2b', 'b2c'],
    payments: ['active', 'sleeping', 'lost'],
    frequency: ['regular', 'first', 'none'],
    no_payments: ['requests', 'dialogs', 'contacts', 'no_contacts'],
};

/** Opens the drill-down of one series by clicking its counter; waits for the first page. */
export async function openDrilldown(frame, mode, series) {
    await frame.click(`[data-testid=mode-${mode}]`);
    await frame.click(`[data-testid=counter-${mode}-${series}]`);
    await waitList(frame);
}

/** Waits until the drill-down has finished loading (for an optional query `q`). */
export async function waitList(frame, q) {
    await frame.waitForFunction((query) => {
        const el = document.querySelector('[data-testid=drilldown]');
        if (!el || el.getAttribute('data-loading') !== 'false') {
            return false;
        }
        return query === undefined || el.getAttribute('data-q') === query;
    }, q);
}

export async function listState(frame) {
    return frame.evaluate(() => {
        const el = document.querySelector('[data-testid=drilldown]');
        return {
            total: Number(el.getAttribute('data-total')),
            q: el.getAttribute('data-q'),
            restricted: !!el.querySelector('[data-testid=list-restricted]'),
            rows: [...el.querySelectorAll('[data-testid=list-row]')].map((r) => ({
                kind: r.getAttribute('data-kind'),
                id: Number(r.getAttribute('data-id')),
                assignedBy: r.getAttribute('data-assigned-by'),
                text: r.textContent,
                name: r.querySelector('.row-name')?.textContent ?? '',
            })),
        };
    });
}

/** Splits CSV text (";"-separated, RFC 4180 quoting) into records of fields. */
export function parseCsv(text, sep = ';') {
    const records = [];
    let field = '';
    let record = [];
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quoted) {
            if (c === '"' && text[i + 1] === '"') {
                field += '"';
                i++;
            } else if (c === '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c === '"') {
            quoted = true;
        } else if (c === sep) {
            record.push(field);
            field = '';
        } else if (c === '\n' || c === '\r') {
            if (c === '\r' && text[i + 1] === '\n') {
                i++;
            }
            record.push(field);
            records.push(record);
            record = [];
            field = '';
        } else {
            field += c;
        }
    }
    if (field !== '' || record.length > 0) {
        record.push(field);
        records.push(record);
    }
    return records;
}

/** Words of a name (letters only, at least 4) that a search could use. */
export function searchableWords(name) {
    return String(name).match(/\p{L}{4,}/gu) ?? [];
}

/** Case- and accent-insensitive form, close to what a server-side search folds. */
export function fold(text) {
    return String(text).toLowerCase().normalize('NFD').replace(/\p{M}/gu, '').replace(/ё/g, 'е').replace(/ß/g, 'ss').replace(/ł/g, 'l');
}
