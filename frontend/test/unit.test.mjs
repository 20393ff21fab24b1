// Unit tests for the frontend's pure parts (boot parsing, the API client's session refresh,
// i18n and formatting), run with Node's test runner. The TypeScript sources are bundled for
// Node with esbuild into a temporary file first.
import * as esbuild from 'esbuild';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
let dir;
let m;

before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'b24seg-fe-unit-'));
    const entry = path.join(dir, 'entry.ts');
    const src = path.join(here, '..', 'src');
    await writeFile(entry, [
        `export { parseBoot, normalizeLang, BootError } from ${JSON.stringify(path.join(src, 'boot.ts'))};`,
        `export { Api, ApiError } from ${JSON.stringify(path.join(src, 'api.ts'))};`,
        `export * as i18n from ${JSON.stringify(path.join(src, 'i18n/index.ts'))};`,
        `export { en } from ${JSON.stringify(path.join(src, 'i18n/en.ts'))};`,
        `export { ru } from ${JSON.stringify(path.join(src, 'i18n/ru.ts'))};`,
        `export { de } from ${JSON.stringify(path.join(src, 'i18n/de.ts'))};`,
        `export { pl } from ${JSON.stringify(path.join(src, 'i18n/pl.ts'))};`,
        `export { isSafePortalPath } from ${JSON.stringify(path.join(src, 'frame.ts'))};`,
        `export { validSettings } from ${JSON.stringify(path.join(src, 'views/admin.ts'))};`,
        `export * as linked from ${JSON.stringify(path.join(src, 'views/linked.ts'))};`,
    ].join('\n'));
    const out = path.join(dir, 'bundle.mjs');
    await esbuild.build({
        entryPoints: [entry], outfile: out, bundle: true, platform: 'neutral', format: 'esm',
        mainFields: ['module', 'main'], logLevel: 'error',
        external: ['@bitrix24/b24jssdk', 'uplot'],
    });
    globalThis.document = { documentElement: { lang: 'en' } };
    m = await import(pathToFileURL(out).href);
});

after(async () => {
    await rm(dir, { recursive: true, force: true });
});

const kBoot = {
    session: 's1', sessionExpiresAt: 1790000000, view: 'card', lang: 'de', placement: 'CRM_CONTACT_DETAIL_TAB',
    entity: { kind: 'contact', id: 12 }, user: { id: 1, name: 'A', isAdmin: true }, portal: { domain: 'x.bitrix24.de' },
    installFinishNeeded: false,
};

test('boot: a valid object passes, a bad one names the field', () => {
    const b = m.parseBoot(kBoot);
    assert.deepEqual(b.entity, { kind: 'contact', id: 12 });
    assert.equal(b.lang, 'de');
    assert.throws(() => m.parseBoot({ ...kBoot, session: '' }), /boot.session/);
    assert.throws(() => m.parseBoot({ ...kBoot, view: 'admin' }), /boot.view/);
    assert.throws(() => m.parseBoot({ ...kBoot, entity: undefined }), /boot.entity/);
    assert.equal(m.parseBoot({ ...kBoot, user: { id: 2, name: 'B', isAdmin: 'yes' } }).user.isAdmin, false);
});

test('boot: portal languages map to ours', () => {
    assert.equal(m.normalizeLang('ru'), 'ru');
    assert.equal(m.normalizeLang('ua'), 'ru');
    assert.equal(m.normalizeLang('PL'), 'pl');
    assert.equal(m.normalizeLang('br'), 'en');
    assert.equal(m.normalizeLang(undefined), 'en');
});

function fakeFetch(script) {
    const calls = [];
    const fn = async (url, init) => {
        calls.push({ url, auth: init.headers?.Authorization ?? null, body: init.body ?? null });
        const next = script(url, init, calls.length);
        return new Response(JSON.stringify(next.body), { status: next.status, headers: { 'Content-Type': 'application/json' } });
    };
    return { fn, calls };
}

test('api: 401 session_expired refreshes once and retries with the new session', async () => {
    let sessions = 0;
    const { fn, calls } = fakeFetch((url, init) => {
        if (url === '/api/session/refresh') {
            sessions++;
            return { status: 200, body: { session: `new${sessions}`, sessionExpiresAt: 1 } };
        }
        if (init.headers.Authorization === 'Bearer old') {
            return { status: 401, body: { error: { code: 'session_expired', message: 'x' } } };
        }
        return { status: 200, body: { ok: true } };
    });
    let authIds = 0;
    const api = new m.Api('old', async () => `auth${++authIds}`, '', fn);
    const [a, b] = await Promise.all([api.json('GET', '/api/me'), api.json('GET', '/api/status')]);
    assert.deepEqual(a, { ok: true });
    assert.deepEqual(b, { ok: true });
    assert.equal(sessions, 1, 'concurrent expiries share one refresh');
    assert.equal(authIds, 1);
    const refresh = calls.find((c) => c.url === '/api/session/refresh');
    assert.deepEqual(JSON.parse(refresh.body), { authId: 'auth1' });
    assert.equal(refresh.auth, null, 'the refresh call carries no old session');
    assert.ok(calls.filter((c) => c.auth === 'Bearer new1').length === 2);
});

test('api: other errors surface as ApiError with the server code', async () => {
    const { fn } = fakeFetch(() => ({ status: 403, body: { error: { code: 'forbidden', message: 'no' } } }));
    const api = new m.Api('s', async () => 'a', '', fn);
    await assert.rejects(api.json('GET', '/api/runs'), (e) => e instanceof m.ApiError && e.status === 403 && e.code === 'forbidden');
    const { fn: fn2 } = fakeFetch(() => ({ status: 401, body: { error: { code: 'session_expired', message: '' } } }));
    const api2 = new m.Api('s', async () => 'a', '', fn2);
    await assert.rejects(api2.json('GET', '/api/me'), (e) => e.code === 'session_expired', 'a second expiry is not retried forever');
    const api3 = new m.Api('s', async () => null, '', fn2);
    await assert.rejects(api3.json('GET', '/api/me'), (e) => e.code === 'session_expired', 'no fresh AUTH_ID: expired');
});

test('i18n: every language has exactly the English keys, with the same placeholders', () => {
    const keys = Object.keys(m.en).sort();
    for (const [name, dict] of Object.entries({ ru: m.ru, de: m.de, pl: m.pl })) {
        assert.deepEqual(Object.keys(dict).sort(), keys, `${name} keys`);
        for (const k of keys) {
            const ph = (s) => (s.match(/\{\w+\}/g) ?? []).sort();
            assert.deepEqual(ph(dict[k]), ph(m.en[k]), `${name} ${k} placeholders`);
        }
    }
});

test('i18n: dates are the portal wall-clock day, whatever the offset', () => {
    m.i18n.setLang('de');
    assert.equal(m.i18n.fmtDate('2024-09-09T02:00:00+03:00'), '09.09.2024');
    assert.equal(m.i18n.fmtDate('2024-12-31T23:30:00-05:00'), '31.12.2024');
    assert.equal(m.i18n.fmtDate(null), '—');
    m.i18n.setLang('en');
    assert.equal(m.i18n.t('list.page', { page: 2, pages: 1234 }), 'Page 2 of 1,234');
    assert.equal(m.i18n.fmtMonth('2019-04', 'short'), 'Apr 2019');
    m.i18n.setLang('ru');
    assert.equal(m.i18n.t('progress.months', { done: 60, total: 144 }), 'Обработано месяцев: 60 из 144');
});

test('links: only CRM card paths are opened', () => {
    assert.ok(m.isSafePortalPath('/crm/contact/details/12/'));
    assert.ok(m.isSafePortalPath('/crm/type/31/details/5/'));
    assert.ok(!m.isSafePortalPath('javascript:alert(1)'));
    assert.ok(!m.isSafePortalPath('//evil.example/crm/contact/details/1/'));
    assert.ok(!m.isSafePortalPath('/crm/contact/details/1/../../../x'));
});

test('settings: 1 ≤ active < lost ≤ 120, whole numbers', () => {
    assert.ok(m.validSettings({ activeMonths: 6, lostMonths: 18 }));
    assert.ok(!m.validSettings({ activeMonths: 18, lostMonths: 6 }));
    assert.ok(!m.validSettings({ activeMonths: 0, lostMonths: 6 }));
    assert.ok(!m.validSettings({ activeMonths: 6, lostMonths: 121 }));
    assert.ok(!m.validSettings({ activeMonths: 6.5, lostMonths: 18 }));
});

test('linked records: a hidden one shows "no access" in every language, without a name or a link', () => {
    const expected = { en: 'No access', ru: 'Нет доступа', de: 'Kein Zugriff', pl: 'Brak dostępu' };
    for (const [lang, text] of Object.entries(expected)) {
        m.i18n.setLang(lang);
        const company = m.linked.linkedLabel({ hidden: true }, m.linked.companyPath);
        assert.deepEqual(company, { text, path: null, hidden: true }, lang);
        const payment = m.linked.paymentLabel({ date: '2025-01-02T10:00:00+03:00', source: 'deal', hidden: true });
        assert.deepEqual(payment, { text, path: null, hidden: true }, lang);
        assert.notEqual(m.i18n.t('card.role.memberHidden'), '', lang);
        assert.ok(!m.i18n.t('card.role.memberHidden').includes('{company}'), lang);
    }
    m.i18n.setLang('en');
    assert.deepEqual(m.linked.linkedLabel({ id: 7, name: 'ООО Ромашка' }, m.linked.companyPath),
        { text: 'ООО Ромашка', path: '/crm/company/details/7/', hidden: false });
    assert.deepEqual(m.linked.linkedLabel({ id: 12, name: '' }, m.linked.contactPath),
        { text: '#12', path: '/crm/contact/details/12/', hidden: false });
    assert.deepEqual(m.linked.paymentLabel({ date: 'x', source: 'invoice', id: 5, title: 'Inv 5', path: '/crm/type/31/details/5/' }),
        { text: 'Inv 5', path: '/crm/type/31/details/5/', hidden: false });
    assert.equal(m.linked.isHidden({ id: 1, name: 'a' }), false);
    assert.equal(m.linked.isHidden(null), false);
    assert.equal(m.linked.isHidden({ hidden: true }), true);
});
