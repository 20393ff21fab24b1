// Pieces shared by the views: error texts, the sync-progress block, status polling.

import { ApiError, type Api } from '../api';
import { h } from '../dom';
import { fmtDateTime, fmtDuration, fmtMonth, has, t, tDyn } from '../i18n';
import type { Key } from '../i18n';
import type { Status } from '../types';

/** A user-facing sentence for any error thrown by the API client. */
export function errorText(err: unknown): string {
    if (err instanceof ApiError) {
        const key = `error.${err.code}`;
        if (has(key)) {
            return t(key as Key);
        }
        return t('error.generic');
    }
    return t('error.generic');
}

export function errorBox(err: unknown, retry?: () => void): HTMLElement {
    return h(
        'div',
        { class: 'notice notice-error', role: 'alert', testid: 'error' },
        h('span', null, errorText(err)),
        retry
            ? h('button', { type: 'button', class: 'btn btn-small', on: { click: retry } }, t('error.retry'))
            : null,
    );
}

const kAdminErrors = new Set(['reinstall_needed', 'payment_required', 'access_denied']);

/** The state of the sync job: what it is doing, how far it got, what needs a person. */
export function progressBlock(status: Status): HTMLElement {
    const run = status.run ?? null;
    const box = h('div', { class: 'progress', testid: 'progress', 'data-state': status.state });
    box.append(
        h('div', { class: 'progress-state' },
            h('span', { class: `dot dot-${status.state}` }),
            tDyn(`state.${status.state}`, status.state),
            run?.phase && status.state === 'running' ? ` · ${tDyn(`phase.${run.phase}`, run.phase)}` : null),
    );
    const running = status.state === 'running' || status.state === 'queued';
    if (run && running) {
        const total = run.monthsTotal ?? 0;
        const done = Math.min(run.monthsDone ?? 0, total);
        if (total > 0) {
            box.append(
                h('progress', { max: total, value: done, 'aria-label': t('progress.title') }),
                h('div', { testid: 'progress-months' }, t('progress.months', { done, total })),
            );
        }
        const facts: string[] = [];
        if (run.month) {
            facts.push(t('progress.month', { month: fmtMonth(run.month) }));
        }
        if (typeof run.rows === 'number') {
            facts.push(t('progress.rows', { n: run.rows }));
        }
        if (typeof run.requests === 'number') {
            facts.push(t('progress.requests', { n: run.requests }));
        }
        if (run.phase === 'write' && run.cardsToWrite) {
            facts.push(t('progress.cards', { done: run.cardsWritten ?? 0, total: run.cardsToWrite }));
        }
        if (typeof run.etaSeconds === 'number' && run.etaSeconds >= 0) {
            facts.push(
                run.etaSeconds < 60 ? t('progress.etaSoon') : t('progress.eta', { t: fmtDuration(run.etaSeconds) }),
            );
        }
        if (run.startedAt) {
            facts.push(t('progress.started', { t: fmtDateTime(run.startedAt) }));
        }
        box.append(h('ul', { class: 'facts' }, facts.map((f) => h('li', null, f))));
    }
    if (status.error && (status.state === 'blocked' || status.state === 'failed')) {
        const code = status.error.code;
        const adminNeeded = status.state === 'blocked' || kAdminErrors.has(code);
        box.append(
            h('div', { class: `notice ${adminNeeded ? 'notice-error' : 'notice-warn'}`, role: 'alert', testid: 'sync-error' },
                adminNeeded ? h('strong', null, `${t('error.adminNeeded')}: `) : null,
                tDyn(`error.${code}`, t('error.generic'))),
        );
    }
    return box;
}

/**
 * Polls /api/status every `intervalMs` and hands each answer to `onStatus` until it returns
 * false or stop() is called. Errors are handed to `onError` and polling continues.
 */
export function pollStatus(
    api: Api,
    onStatus: (s: Status) => boolean,
    onError: (e: unknown) => void,
    intervalMs = 2000,
): { stop: () => void } {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
        if (stopped) {
            return;
        }
        let keepGoing = true;
        try {
            keepGoing = onStatus(await api.status());
        } catch (e) {
            onError(e);
            if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
                keepGoing = false;
            }
        }
        if (keepGoing && !stopped) {
            timer = setTimeout(tick, intervalMs);
        }
    };
    void tick();
    return {
        stop: () => {
            stopped = true;
            clearTimeout(timer);
        },
    };
}

/** Safe CSV/blob download from inside the iframe. */
export function downloadBlob(blob: Blob, filename: string): void {
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: filename, class: 'hidden' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
