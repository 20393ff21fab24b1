// The admin panel: run status and history, "update now", "clear and refresh" behind a
// confirmation, and the 6/18-month settings. Rendered only for portal admins; the server
// refuses these calls for everybody else anyway.

import { ApiError, type Api } from '../api';
import { h, replace } from '../dom';
import { fmtDateTime, fmtNumber, t, tDyn } from '../i18n';
import type { RunRecord, Settings, Status } from '../types';
import { errorBox, errorText, pollStatus, progressBlock } from './common';

function runsTable(items: RunRecord[]): HTMLElement {
    if (items.length === 0) {
        return h('p', { class: 'muted' }, t('admin.historyEmpty'));
    }
    const err = (e: RunRecord['error']): string => {
        if (!e) {
            return '';
        }
        if (typeof e === 'string') {
            return tDyn(`error.${e}`, e);
        }
        return tDyn(`error.${e.code}`, e.message || e.code);
    };
    return h('div', { class: 'table-scroll' },
        h('table', { class: 'table runs-table', testid: 'runs-table' },
            h('thead', null, h('tr', null,
                h('th', null, t('admin.col.id')), h('th', null, t('admin.col.kind')), h('th', null, t('admin.col.state')),
                h('th', null, t('admin.col.started')), h('th', null, t('admin.col.finished')),
                h('th', { class: 'num' }, t('admin.col.requests')), h('th', { class: 'num' }, t('admin.col.rows')),
                h('th', { class: 'num' }, t('admin.col.cards')), h('th', null, t('admin.col.error')))),
            h('tbody', null, items.map((r) => h('tr', { testid: 'run-row', 'data-id': r.id },
                h('td', { 'data-label': t('admin.col.id') }, String(r.id)),
                h('td', { 'data-label': t('admin.col.kind') }, tDyn(`runKind.${r.kind}`, r.kind)),
                h('td', { 'data-label': t('admin.col.state') }, tDyn(`state.${r.state}`, r.state)),
                h('td', { 'data-label': t('admin.col.started') }, fmtDateTime(r.startedAt)),
                h('td', { 'data-label': t('admin.col.finished') }, fmtDateTime(r.finishedAt)),
                h('td', { class: 'num', 'data-label': t('admin.col.requests') }, fmtNumber(r.requests)),
                h('td', { class: 'num', 'data-label': t('admin.col.rows') }, fmtNumber(r.rows)),
                h('td', { class: 'num', 'data-label': t('admin.col.cards') }, fmtNumber(r.cardsWritten)),
                h('td', { 'data-label': t('admin.col.error') }, err(r.error)))))));
}

function confirmDialog(title: string, text: string, yes: string, onYes: () => void): HTMLDialogElement {
    const dialog = h('dialog', { class: 'dialog', testid: 'confirm-dialog', 'aria-labelledby': 'confirm-title' });
    const yesBtn = h('button', { type: 'button', class: 'btn btn-danger', testid: 'confirm-yes' }, yes);
    const noBtn = h('button', { type: 'button', class: 'btn', testid: 'confirm-no' }, t('admin.cancel'));
    yesBtn.addEventListener('click', () => {
        dialog.close();
        onYes();
    });
    noBtn.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => dialog.remove());
    dialog.append(
        h('h3', { id: 'confirm-title' }, title),
        h('p', null, text),
        h('div', { class: 'dialog-actions' }, noBtn, yesBtn),
    );
    return dialog;
}

export function validSettings(s: Settings): boolean {
    return (
        Number.isInteger(s.activeMonths) &&
        Number.isInteger(s.lostMonths) &&
        s.activeMonths >= 1 &&
        s.activeMonths < s.lostMonths &&
        s.lostMonths <= 120
    );
}

export class AdminPanel {
    readonly element: HTMLElement;
    private readonly statusBox = h('div', { testid: 'admin-status' });
    private readonly runsBox = h('div', { testid: 'admin-runs' });
    private readonly actionsNote = h('div', { 'aria-live': 'polite' });
    private readonly settingsBox = h('div', { testid: 'admin-settings' });
    private poller: { stop: () => void } | null = null;
    private lastState = '';

    constructor(
        private readonly api: Api,
        private readonly onSettings: (s: Settings) => void,
        private readonly onFirstRunDone: () => void,
    ) {
        const runBtn = h('button', { type: 'button', class: 'btn', testid: 'admin-run' }, t('admin.runNow'));
        runBtn.addEventListener('click', () => void this.act(() => this.api.startRun(false), t('admin.runStarted')));
        const clearBtn = h('button', { type: 'button', class: 'btn btn-danger', testid: 'admin-clear' }, t('admin.clear'));
        clearBtn.addEventListener('click', () => {
            const dialog = confirmDialog(t('admin.clearConfirmTitle'), t('admin.clearConfirm'), t('admin.clearYes'),
                () => void this.act(() => this.api.clearRefresh(), t('admin.clearStarted')));
            document.body.append(dialog);
            dialog.showModal();
        });
        this.element = h('section', { class: 'admin', testid: 'admin-panel' },
            h('div', { class: 'panel' },
                h('h2', { class: 'panel-title' }, t('admin.status')),
                this.statusBox,
                h('div', { class: 'toolbar' }, runBtn, clearBtn),
                h('p', { class: 'muted small' }, t('admin.clearHint')),
                this.actionsNote),
            h('div', { class: 'panel' }, h('h2', { class: 'panel-title' }, t('admin.settings')), this.settingsBox),
            h('div', { class: 'panel' }, h('h2', { class: 'panel-title' }, t('admin.history')), this.runsBox));
    }

    start(): void {
        this.poller?.stop();
        this.poller = pollStatus(this.api, (s) => this.showStatus(s), (e) => replace(this.statusBox, errorBox(e)), 3000);
        void this.loadRuns();
        void this.loadSettings();
    }

    stop(): void {
        this.poller?.stop();
        this.poller = null;
    }

    private showStatus(s: Status): boolean {
        replace(this.statusBox, progressBlock(s));
        if (this.lastState && this.lastState !== s.state) {
            void this.loadRuns();
            if (s.state === 'idle' && s.firstRunDone) {
                this.onFirstRunDone();
            }
        }
        this.lastState = s.state;
        return true;
    }

    private async act(call: () => Promise<unknown>, okText: string): Promise<void> {
        replace(this.actionsNote);
        try {
            await call();
            replace(this.actionsNote, h('div', { class: 'notice notice-ok', testid: 'admin-note' }, okText));
        } catch (err) {
            replace(this.actionsNote, h('div', { class: 'notice notice-error', role: 'alert', testid: 'admin-note' }, errorText(err)));
        }
        this.start();
    }

    private async loadRuns(): Promise<void> {
        try {
            const runs = await this.api.runs();
            replace(this.runsBox, runsTable(runs.items ?? []));
        } catch (err) {
            replace(this.runsBox, errorBox(err, () => void this.loadRuns()));
        }
    }

    private async loadSettings(): Promise<void> {
        let current: Settings;
        try {
            current = await this.api.settings();
        } catch (err) {
            replace(this.settingsBox, errorBox(err, () => void this.loadSettings()));
            return;
        }
        const active = h('input', { type: 'number', class: 'input input-num', min: 1, max: 119, step: 1, value: current.activeMonths, id: 'set-active', testid: 'settings-active' });
        const lost = h('input', { type: 'number', class: 'input input-num', min: 2, max: 120, step: 1, value: current.lostMonths, id: 'set-lost', testid: 'settings-lost' });
        const note = h('div', { 'aria-live': 'polite' });
        const form = h('form', { class: 'settings-form', testid: 'settings-form' },
            h('label', { for: 'set-active' }, t('admin.activeMonths')), active,
            h('label', { for: 'set-lost' }, t('admin.lostMonths')), lost,
            h('p', { class: 'muted small span-2' }, t('admin.settingsHint')),
            h('div', { class: 'span-2' }, h('button', { type: 'submit', class: 'btn btn-primary', testid: 'settings-save' }, t('admin.save'))),
            h('div', { class: 'span-2' }, note));
        form.addEventListener('submit', (ev) => {
            ev.preventDefault();
            const next: Settings = { activeMonths: Number(active.value), lostMonths: Number(lost.value) };
            if (!validSettings(next)) {
                replace(note, h('div', { class: 'notice notice-error', role: 'alert' }, t('admin.settingsInvalid')));
                return;
            }
            void (async () => {
                try {
                    const saved = await this.api.saveSettings(next);
                    this.onSettings(saved && typeof saved.activeMonths === 'number' ? saved : next);
                    replace(note, h('div', { class: 'notice notice-ok', testid: 'settings-saved' }, t('admin.saved')));
                    this.start();
                } catch (err) {
                    const text = err instanceof ApiError && err.code === 'bad_request' ? t('admin.settingsInvalid') : errorText(err);
                    replace(note, h('div', { class: 'notice notice-error', role: 'alert' }, text));
                }
            })();
        });
        replace(this.settingsBox, form);
    }
}
