// Reads the boot object that the server injects into index.html (server/API.md).

import type { Boot, Lang, View } from './types';

const kLangs: readonly Lang[] = ['ru', 'en', 'de', 'pl'];
const kViews: readonly View[] = ['main', 'card', 'install'];

export class BootError extends Error {}

/** Maps any portal language code to one of ours (ua/by/kz → ru, everything unknown → en). */
export function normalizeLang(raw: unknown): Lang {
    const code = String(raw ?? '').toLowerCase().slice(0, 2);
    if ((kLangs as readonly string[]).includes(code)) {
        return code as Lang;
    }
    if (code === 'ua' || code === 'uk' || code === 'by' || code === 'be' || code === 'kz') {
        return 'ru';
    }
    return 'en';
}

/** Validates the parsed boot JSON; throws BootError naming the first bad field. */
export function parseBoot(raw: unknown): Boot {
    if (typeof raw !== 'object' || raw === null) {
        throw new BootError('boot object missing');
    }
    const b = raw as Record<string, unknown>;
    if (typeof b.session !== 'string' || b.session === '') {
        throw new BootError('boot.session');
    }
    const view = b.view as View;
    if (!kViews.includes(view)) {
        throw new BootError('boot.view');
    }
    const user = b.user as Boot['user'] | undefined;
    if (!user || typeof user.id !== 'number') {
        throw new BootError('boot.user');
    }
    let entity: Boot['entity'];
    if (b.entity && typeof b.entity === 'object') {
        const e = b.entity as Record<string, unknown>;
        if ((e.kind === 'contact' || e.kind === 'company') && Number.isInteger(Number(e.id))) {
            entity = { kind: e.kind, id: Number(e.id) };
        }
    }
    if (view === 'card' && !entity) {
        throw new BootError('boot.entity');
    }
    const portal = (b.portal as Boot['portal'] | undefined) ?? { domain: '' };
    const boot: Boot = {
        session: b.session,
        sessionExpiresAt: Number(b.sessionExpiresAt ?? 0),
        view,
        lang: normalizeLang(b.lang),
        placement: String(b.placement ?? 'DEFAULT'),
        user: { id: user.id, name: String(user.name ?? ''), isAdmin: user.isAdmin === true },
        portal: { domain: String(portal.domain ?? '') },
        installFinishNeeded: b.installFinishNeeded === true,
    };
    if (entity) {
        boot.entity = entity;
    }
    return boot;
}

export function readBoot(doc: Document = document): Boot {
    const el = doc.getElementById('b24seg-boot');
    if (!el || !el.textContent) {
        throw new BootError('no boot element');
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(el.textContent);
    } catch {
        throw new BootError('boot JSON');
    }
    return parseBoot(parsed);
}
