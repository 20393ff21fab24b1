// The test portal's shell: hosts the app in an iframe the way a Bitrix24 portal does (a form
// POST into a named iframe) and answers the frame SDK's postMessage protocol. See README.md for
// the URL parameters and the subset of the protocol implemented here.

const params = new URLSearchParams(location.search);
const state = {
    info: null,
    userId: null,
    lang: ['en', 'ru', 'de', 'pl'].includes(params.get('lang')) ? params.get('lang') : 'en',
    mobile: params.get('mobile') === '1',
    apps: new Map(), // appSid -> app context
    appOptions: {},
    userOptions: {},
};
const log = [];
const $ = (id) => document.getElementById(id);

// ---- helpers -------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs ?? {})) {
        if (v === undefined || v === null || v === false) continue;
        if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
        if (c === null || c === undefined || c === false) continue;
        node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
}

async function postJson(path, body) {
    const res = await fetch(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body ?? {}),
    });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
}

function record(dir, command, detail) {
    const entry = { dir, command, detail: detail ?? null, at: Date.now() };
    log.push(entry);
    const line = `${dir === 'in' ? '→' : '←'} ${command}${detail ? ' ' + JSON.stringify(detail) : ''}`;
    $('log').append(el('li', null, line));
}

function pickUser(users) {
    const wanted = Number(params.get('user'));
    if (users.some((u) => u.id === wanted)) return wanted;
    return (users.find((u) => u.isAdmin) ?? users[0])?.id ?? null;
}

// /shell/api/info (tests/fakeportal/README.md): {domain, memberId, users: [{id, name, lastName,
// admin, crmRead}], app: null | {installed, finished, …}}. Other spellings (isAdmin, member_id)
// are read too.
function normalizeInfo(raw) {
    const users = (raw.users ?? []).map((u) => ({
        id: Number(u.id ?? u.ID),
        name: [u.name ?? u.NAME, u.lastName ?? u.LAST_NAME].filter(Boolean).join(' ') || `User ${u.id}`,
        isAdmin: Boolean(u.admin ?? u.isAdmin ?? u.is_admin ?? false),
        crmRead: u.crmRead ?? null,
    }));
    const app = raw.app ?? null;
    return {
        domain: String(raw.domain ?? location.host),
        memberId: String(raw.memberId ?? raw.member_id ?? ''),
        users,
        installed: Boolean(app?.installed),
        finished: Boolean(app?.finished),
    };
}

async function refreshInfo() {
    const res = await fetch('/shell/api/info');
    if (!res.ok) throw new Error(`/shell/api/info: HTTP ${res.status}`);
    state.info = normalizeInfo(await res.json());
    return state.info;
}

function currentUser() {
    return state.info.users.find((u) => u.id === state.userId) ?? null;
}

// ---- hosting the app -----------------------------------------------------------------------

/**
 * Opens the app in a new iframe inside `host`: asks the portal for the handler URL and the form
 * fields, names the iframe "<host>|<protocol>|<APP_SID>" (the SDK reads window.name), and POSTs
 * the fields into it.
 */
async function openApp(host, placement, placementOptions, opts = {}) {
    await refreshInfo();
    const answer = await postJson('/shell/api/open-app', {
        userId: state.userId,
        placement,
        placementOptions: placementOptions ?? {},
        lang: state.lang,
    });
    const url = new URL(answer.url, location.href);
    if (opts.installer && /\/app$/.test(url.pathname)) {
        url.pathname = url.pathname.replace(/\/app$/, '/install');
    }
    const fields = answer.fields ?? {};
    const appSid = url.searchParams.get('APP_SID') || crypto.randomUUID().replace(/-/g, '');
    const protocol = location.protocol === 'https:' ? 1 : 0;
    const frameName = `${location.host}|${protocol}|${appSid}`;
    for (const [sid, ctx] of state.apps) {
        if (ctx.host === host) state.apps.delete(sid);
    }
    const iframe = el('iframe', {
        name: frameName,
        class: 'app-frame',
        title: 'Client segmentation',
        'data-testid': 'app-frame',
        'data-placement': placement,
        allow: 'clipboard-write',
    });
    host.replaceChildren(iframe);
    let options = placementOptions ?? {};
    if (typeof fields.PLACEMENT_OPTIONS === 'string') {
        try { options = JSON.parse(fields.PLACEMENT_OPTIONS); } catch { /* keep ours */ }
    }
    const ctx = {
        host,
        iframe,
        appOrigin: url.origin,
        appSid,
        placement,
        placementOptions: options,
        auth: {
            AUTH_ID: fields.AUTH_ID ?? '',
            REFRESH_ID: fields.REFRESH_ID ?? '',
            AUTH_EXPIRES: String(fields.AUTH_EXPIRES ?? '3600'),
        },
        install: !state.info.finished,
        reopen: () => openApp(host, placement, placementOptions, opts),
        inSlider: Boolean(opts.inSlider),
    };
    state.apps.set(appSid, ctx);
    const form = el('form', { method: 'POST', action: url.toString(), target: frameName, hidden: true });
    for (const [k, v] of Object.entries(fields)) {
        form.append(el('input', { type: 'hidden', name: k, value: typeof v === 'string' ? v : JSON.stringify(v) }));
    }
    document.body.append(form);
    record('out', 'open', { placement, url: url.origin + url.pathname });
    form.submit();
    form.remove();
    return ctx;
}

function reply(ctx, key, value) {
    const payload = value === undefined ? '' : JSON.stringify(value);
    ctx.iframe.contentWindow?.postMessage(`${key}:${payload}`, ctx.appOrigin);
}

/**
 * The SDK sends "command:params:callbackKey:appSid" (params JSON, may itself hold ':'; absent
 * when empty). We answer "callbackKey:json" to the app's origin.
 */
function parseMessage(data) {
    const parts = data.split(':');
    if (parts.length < 3) return null;
    return {
        command: parts[0],
        appSid: parts[parts.length - 1],
        key: parts[parts.length - 2],
        params: parts.slice(1, -2).join(':'),
    };
}

window.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string') return;
    const msg = parseMessage(ev.data);
    if (!msg) return;
    const ctx = state.apps.get(msg.appSid);
    if (!ctx || ev.source !== ctx.iframe.contentWindow || ev.origin !== ctx.appOrigin) return;
    let args = {};
    if (msg.params) {
        try { args = JSON.parse(msg.params); } catch { args = msg.params; }
    }
    void handle(ctx, msg.command, args, msg.key).catch((err) => {
        record('in', `${msg.command} failed`, { error: String(err) });
    });
});

async function handle(ctx, command, args, key) {
    switch (command) {
        case 'getInitData': {
            const user = currentUser();
            record('in', command, { placement: ctx.placement });
            reply(ctx, key, {
                LANG: state.lang,
                DOMAIN: location.host,
                PROTOCOL: location.protocol === 'https:' ? 1 : 0,
                PATH: '/rest/',
                ...ctx.auth,
                MEMBER_ID: state.info.memberId,
                IS_ADMIN: Boolean(user?.isAdmin),
                PLACEMENT: ctx.placement,
                PLACEMENT_OPTIONS: ctx.placementOptions,
                INSTALL: ctx.install,
                FIRST_RUN: false,
                APP_OPTIONS: state.appOptions,
                USER_OPTIONS: state.userOptions,
            });
            return;
        }
        case 'refreshAuth': {
            record('in', command);
            const auth = await postJson('/shell/api/auth', { userId: state.userId });
            ctx.auth = {
                AUTH_ID: auth.access_token,
                REFRESH_ID: auth.refresh_token,
                AUTH_EXPIRES: String(auth.expires_in ?? 3600),
            };
            reply(ctx, key, ctx.auth);
            return;
        }
        case 'resizeWindow': {
            record('in', command, { width: args.width, height: args.height });
            const height = Number(args.height);
            if (height > 0) ctx.iframe.style.height = `${Math.ceil(height)}px`;
            if (typeof args.width === 'number' && args.width > 0) ctx.iframe.style.width = `${args.width}px`;
            else ctx.iframe.style.width = '100%';
            reply(ctx, key, {});
            return;
        }
        case 'setTitle': {
            record('in', command, { title: args.title });
            (ctx.inSlider ? $('slider-title') : $('pagetitle')).textContent = String(args.title ?? '');
            reply(ctx, key, {});
            return;
        }
        case 'setScroll':
            record('in', command, { scroll: args.scroll });
            window.scrollTo(0, Number(args.scroll) || 0);
            reply(ctx, key, {});
            return;
        case 'openPath': {
            // The SDK prefixes a width hint made of "../" segments; the URL parser resolves them.
            const target = new URL(String(args.path ?? ''), location.origin);
            const m = /^\/crm\/(contact|company)\/details\/(\d+)\/$/.exec(target.pathname);
            record('in', command, { path: target.pathname });
            if (!m) {
                reply(ctx, key, { result: 'error', errorCode: 'PATH_NOT_SUPPORTED' });
                return;
            }
            await openCard(m[1], Number(m[2]), { tab: 'general', onClose: () => reply(ctx, key, { result: 'close' }) });
            return;
        }
        case 'setInstallFinish': {
            record('in', command);
            await postJson('/shell/api/install-finish', {});
            reply(ctx, key, {});
            // A portal reloads the application once its installer has finished.
            await refreshInfo();
            await ctx.reopen();
            return;
        }
        case 'setInstall':
            record('in', command, args);
            reply(ctx, key, {});
            return;
        case 'reloadWindow':
            record('in', command);
            await ctx.reopen();
            return;
        case 'closeApplication':
            record('in', command);
            if (ctx.inSlider) closeSlider();
            reply(ctx, key, {});
            return;
        case 'setAppOption':
        case 'setUserOption': {
            record('in', command, { name: args.name });
            (command === 'setAppOption' ? state.appOptions : state.userOptions)[args.name] = args.value;
            reply(ctx, key, {});
            return;
        }
        case 'getInterface':
            record('in', command);
            reply(ctx, key, { command: [], event: [] });
            return;
        default:
            // Not implemented here: no answer, as a portal does for commands a placement does
            // not know. The SDK's "isSafely" commands resolve on their own timer.
            record('in', `${command} (unsupported)`);
    }
}

// ---- portal pages --------------------------------------------------------------------------

async function rest(method, body) {
    const auth = await postJson('/shell/api/auth', { userId: state.userId });
    // The token goes in the body (as Bitrix24 accepts it), not in the URL, so that no access
    // log ever holds it.
    const res = await fetch(`/rest/${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...body, auth: auth.access_token }),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok || data.error) throw new Error(`${method}: ${data.error ?? res.status}`);
    return data;
}

function itemName(kind, item) {
    if (kind === 'company') return item.title ?? item.TITLE ?? '';
    return [item.name ?? item.NAME, item.lastName ?? item.LAST_NAME].filter(Boolean).join(' ');
}

async function showList(kind, start = 0) {
    const title = kind === 'company' ? 'Companies' : 'Contacts';
    setPageTitle(title);
    markMenu(kind === 'company' ? 'companies' : 'contacts');
    const page = $('page');
    page.replaceChildren(el('div', { class: 'crm-list' }, 'Loading…'));
    try {
        const data = await rest('crm.item.list', {
            entityTypeId: kind === 'company' ? 4 : 3,
            select: ['id', 'name', 'lastName', 'title'],
            order: { id: 'ASC' },
            start,
        });
        const items = data.result?.items ?? [];
        const rows = items.map((it) => el('tr', { 'data-testid': `crm-row-${kind}-${it.id}` },
            el('td', null, String(it.id)),
            el('td', null, el('a', { href: `?${linkParams({ open: `${kind}:${it.id}` })}`, onclick: (ev) => {
                ev.preventDefault();
                void openCard(kind, Number(it.id));
            } }, itemName(kind, it) || `#${it.id}`))));
        const pager = el('div', { class: 'pager' },
            start > 0 ? el('button', { type: 'button', onclick: () => showList(kind, Math.max(0, start - 50)) }, 'Previous') : null,
            el('span', null, `${start + 1}–${start + items.length}${data.total !== undefined ? ` of ${data.total}` : ''}`),
            data.next !== undefined ? el('button', { type: 'button', onclick: () => showList(kind, data.next) }, 'Next') : null);
        page.replaceChildren(el('div', { class: 'crm-list' },
            el('table', null, el('thead', null, el('tr', null, el('th', null, 'ID'), el('th', null, 'Name'))), el('tbody', null, rows)),
            pager));
    } catch (err) {
        page.replaceChildren(el('div', { class: 'error' }, `Could not load the list: ${err.message}`));
    }
}

let sliderOnClose = null;

/** Opens a contact or company card in a slider, with the app's tab selected (tab=general to not). */
async function openCard(kind, id, opts = {}) {
    closeSlider();
    sliderOnClose = opts.onClose ?? null;
    $('slider').hidden = false;
    $('slider').setAttribute('data-kind', kind);
    $('slider').setAttribute('data-id', String(id));
    $('slider-title').textContent = `${kind === 'company' ? 'Company' : 'Contact'} #${id}`;
    const tabs = $('card-tabs');
    const body = $('slider-body');
    const select = (which) => {
        for (const b of tabs.children) b.setAttribute('aria-selected', String(b.dataset.tab === which));
        if (which === 'app') {
            const host = el('div', { class: 'page' });
            body.replaceChildren(host);
            void openApp(host, kind === 'company' ? 'CRM_COMPANY_DETAIL_TAB' : 'CRM_CONTACT_DETAIL_TAB',
                { ID: String(id) }, { inSlider: true });
        } else {
            void showGeneral(kind, id, body);
        }
    };
    tabs.replaceChildren(
        el('button', { type: 'button', 'data-tab': 'general', 'data-testid': 'card-tab-general', onclick: () => select('general') }, 'General'),
        el('button', { type: 'button', 'data-tab': 'app', 'data-testid': 'card-tab-app', onclick: () => select('app') }, 'Client segment'));
    select(opts.tab ?? params.get('tab') ?? 'app');
    void rest('crm.item.list', { entityTypeId: kind === 'company' ? 4 : 3, filter: { id }, select: ['id', 'name', 'lastName', 'title'] })
        .then((data) => {
            const item = data.result?.items?.[0];
            if (item) $('slider-title').textContent = itemName(kind, item) || `#${id}`;
        })
        .catch(() => undefined);
}

async function showGeneral(kind, id, body) {
    body.replaceChildren(el('div', { class: 'general' }, 'Loading…'));
    try {
        const data = await rest('crm.item.list', { entityTypeId: kind === 'company' ? 4 : 3, filter: { id } });
        const item = data.result?.items?.[0] ?? {};
        const dl = el('dl');
        for (const [k, v] of Object.entries(item)) {
            if (v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
            dl.append(el('dt', null, k), el('dd', null, typeof v === 'object' ? JSON.stringify(v) : String(v)));
        }
        body.replaceChildren(el('div', { class: 'general' }, dl));
    } catch (err) {
        body.replaceChildren(el('div', { class: 'error' }, `Could not load the card: ${err.message}`));
    }
}

function closeSlider() {
    if ($('slider').hidden) return;
    for (const [sid, ctx] of state.apps) {
        if (ctx.inSlider) state.apps.delete(sid);
    }
    $('slider').hidden = true;
    $('slider-body').replaceChildren();
    const cb = sliderOnClose;
    sliderOnClose = null;
    if (cb) cb();
}

function setPageTitle(text) {
    $('pagetitle').textContent = text;
}

function markMenu(open) {
    for (const a of $('menu').querySelectorAll('a')) a.classList.toggle('active', a.dataset.open === open);
}

function linkParams(extra) {
    const p = new URLSearchParams();
    if (state.userId !== null) p.set('user', String(state.userId));
    p.set('lang', state.lang);
    if (state.mobile) p.set('mobile', '1');
    for (const [k, v] of Object.entries(extra)) p.set(k, v);
    return p.toString();
}

async function go(open) {
    closeSlider();
    document.body.classList.remove('menu-open');
    history.replaceState(null, '', `?${linkParams({ open })}`);
    const page = $('page');
    markMenu(open);
    if (open === 'contacts') return showList('contact');
    if (open === 'companies') return showList('company');
    const card = /^(contact|company):(\d+)$/.exec(open);
    if (card) {
        await showList(card[1]);
        return openCard(card[1], Number(card[2]));
    }
    setPageTitle('Client segmentation');
    if (open === 'analytics') return openApp(page, 'CRM_ANALYTICS_MENU', {});
    if (open === 'install') return openApp(page, 'DEFAULT', {}, { installer: true });
    return openApp(page, 'DEFAULT', {});
}

// ---- start ---------------------------------------------------------------------------------

async function start() {
    document.body.classList.toggle('mobile', state.mobile);
    $('mobile-toggle').checked = state.mobile;
    $('lang-select').value = state.lang;
    try {
        await refreshInfo();
    } catch (err) {
        $('page').replaceChildren(el('div', { class: 'error' }, `The test portal did not answer: ${err.message}`));
        return;
    }
    state.userId = pickUser(state.info.users);
    $('domain').textContent = state.info.domain;
    $('user-select').replaceChildren(...state.info.users.map((u) =>
        el('option', { value: u.id, selected: u.id === state.userId }, `${u.name}${u.isAdmin ? ' (admin)' : u.crmRead === 'own' ? ' (own CRM rights)' : ''}`)));
    const reload = (change) => {
        const p = new URLSearchParams(location.search);
        for (const [k, v] of Object.entries(change)) {
            if (v === null) p.delete(k); else p.set(k, v);
        }
        location.search = p.toString();
    };
    $('user-select').addEventListener('change', (ev) => reload({ user: ev.target.value }));
    $('lang-select').addEventListener('change', (ev) => reload({ lang: ev.target.value }));
    $('mobile-toggle').addEventListener('change', (ev) => reload({ mobile: ev.target.checked ? '1' : null }));
    $('menu-toggle').addEventListener('click', () => document.body.classList.toggle('menu-open'));
    $('slider-close').addEventListener('click', closeSlider);
    $('slider').addEventListener('click', (ev) => { if (ev.target === $('slider')) closeSlider(); });
    for (const a of $('menu').querySelectorAll('a')) {
        a.addEventListener('click', (ev) => {
            ev.preventDefault();
            void go(a.dataset.open);
        });
    }
    await go(params.get('open') ?? 'app');
}

// For the browser tests: the message log and a way to reach the shell's state.
window.__shell = { log, state, openCard, go };
void start();
