// The install page: what the app will do, the progress of the first run, and a clear message
// when something needs the admin. Calls installFinish once the server has done its part
// (boot.installFinishNeeded) and the job is not blocked.

import type { Api } from '../api';
import { h, replace } from '../dom';
import { installFinish, setTitle } from '../frame';
import { t } from '../i18n';
import type { Boot, Status } from '../types';
import { errorBox, pollStatus, progressBlock } from './common';

export function installView(api: Api, boot: Boot, root: HTMLElement): void {
    const finishBox = h('div', { testid: 'install-finish', 'aria-live': 'polite' });
    const progressBox = h('div', { testid: 'install-progress' });
    replace(root,
        h('header', { class: 'app-header' }, h('h1', { class: 'app-title' }, t('install.title'))),
        h('div', { class: 'content install', testid: 'install' },
            h('section', { class: 'panel' },
                h('h2', { class: 'panel-title' }, t('install.what')),
                h('ul', { class: 'what' },
                    h('li', null, t('install.what1')), h('li', null, t('install.what2')),
                    h('li', null, t('install.what3')), h('li', null, t('install.what4')))),
            h('section', { class: 'panel' }, h('h2', { class: 'panel-title' }, t('progress.title')), finishBox, progressBox)));
    void setTitle(t('install.title')).catch(() => undefined);

    let finishState: 'pending' | 'running' | 'done' | 'skipped' = boot.installFinishNeeded ? 'pending' : 'skipped';
    if (!boot.installFinishNeeded) {
        replace(finishBox, h('p', { class: 'notice notice-ok' }, t('install.alreadyInstalled')));
    }

    const maybeFinish = async (s: Status) => {
        if (finishState !== 'pending' || s.state === 'blocked') {
            return;
        }
        finishState = 'running';
        replace(finishBox, h('p', { class: 'muted' }, t('install.finishing')));
        try {
            const ok = await installFinish();
            finishState = ok ? 'done' : 'pending';
            replace(finishBox, ok
                ? h('p', { class: 'notice notice-ok', testid: 'install-done' }, t('install.finished'))
                : h('p', { class: 'notice notice-error', role: 'alert' }, t('install.notFinished')));
        } catch {
            finishState = 'pending';
            replace(finishBox, h('p', { class: 'notice notice-error', role: 'alert' }, t('install.notFinished')));
        }
    };

    let marked = false;
    pollStatus(api, (s) => {
        replace(progressBox, progressBlock(s));
        if (!marked) {
            marked = true;
            performance.mark('b24seg:first-screen');
            document.body.setAttribute('data-first-screen', 'done');
        }
        void maybeFinish(s);
        return true;
    }, (e) => replace(progressBox, errorBox(e)), 2000);
}
