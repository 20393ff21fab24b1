// The tab on contact and company cards: this client's segment, payments, dialogs and channels.

import { ApiError, type Api } from '../api';
import { h, replace } from '../dom';
import { fmtDate, fmtNumber, t, tDyn } from '../i18n';
import type { Boot, Client } from '../types';
import { errorBox } from './common';
import { linkedNode } from './drilldown';
import { companyPath, contactPath, isHidden, linkedLabel, paymentLabel } from './linked';

function field(label: string, value: Node | string, testid: string): HTMLElement[] {
    return [h('dt', null, label), h('dd', { testid }, value)];
}

function yesNo(v: boolean | null | undefined): string {
    return v === true ? t('card.yes') : v === false ? t('card.no') : '—';
}

export function cardContent(c: Client): HTMLElement {
    const head = h('div', { class: 'card-head' },
        h('h1', { class: 'card-name', testid: 'card-name', 'data-kind': c.kind, 'data-id': c.id }, c.name || `#${c.id}`),
        h('span', { class: 'badge badge-light' }, t(c.kind === 'company' ? 'kind.company' : 'kind.contact')));
    const role = c.role === 'member' && c.parentCompany
        ? h('p', { class: 'notice notice-info', testid: 'card-role' },
            isHidden(c.parentCompany)
                ? t('card.role.memberHidden')
                : t('card.role.member', { company: c.parentCompany.name || `#${c.parentCompany.id}` }))
        : c.role === 'not_client'
            ? h('p', { class: 'notice notice-info', testid: 'card-role' }, t('card.role.not_client'))
            : null;
    const badge = (cls: string, text: string) => h('span', { class: `badge ${cls}` }, text);
    const facts = h('dl', { class: 'facts-grid' },
        field(t('card.lifecycle'),
            c.lifecycle ? badge(`lc-${c.lifecycle.toLowerCase()}`, tDyn(`lifecycle.${c.lifecycle}`, c.lifecycle)) : '—', 'card-lifecycle'),
        field(t('card.clientType'), c.clientType ? tDyn(`clientType.${c.clientType}`, c.clientType) : '—', 'card-client-type'),
        field(t('card.frequency'), c.frequency ? tDyn(`frequency.${c.frequency}`, c.frequency) : '—', 'card-frequency'),
        field(t('card.lastPayment'), fmtDate(c.lastPayment), 'card-last-payment'),
        field(t('card.payments'), fmtNumber(c.payments ?? 0), 'card-payments'),
        field(t('card.dialogs'),
            c.dialogs && c.dialogs.count > 0
                ? (c.dialogs.last ? t('card.dialogsValue', { n: c.dialogs.count, date: fmtDate(c.dialogs.last) }) : fmtNumber(c.dialogs.count))
                : yesNo(c.hasDialogs),
            'card-dialogs'),
        field(t('card.channels'),
            c.channels && c.channels.length
                ? h('span', { class: 'chips' }, c.channels.map((ch) => h('span', { class: 'chip' }, tDyn(`channel.${ch}`, ch))))
                : yesNo(c.hasChannels),
            'card-channels'),
        c.parentCompany
            ? field(t('card.parentCompany'), linkedNode(linkedLabel(c.parentCompany, companyPath), 'card-parent'),
                'card-parent-company')
            : []);
    const payments = h('section', { class: 'card-section' },
        h('h2', { class: 'panel-title' }, t('card.paymentsList')),
        c.paymentsList && c.paymentsList.length
            ? h('ul', { class: 'payments', testid: 'card-payments-list' },
                c.paymentsList.map((p) => h('li', { testid: 'card-payment' },
                    h('span', { class: 'pay-date' }, fmtDate(p.date)),
                    h('span', { class: 'muted' }, tDyn(`card.source.${p.source}`, p.source)),
                    linkedNode(paymentLabel(p), 'card-payment-link'))))
            : h('p', { class: 'muted' }, t('card.noPayments')));
    const members = c.members && c.members.length
        ? h('section', { class: 'card-section' },
            h('h2', { class: 'panel-title' }, t('card.members')),
            h('ul', { class: 'members', testid: 'card-members' },
                c.members.map((m) => h('li', null, linkedNode(linkedLabel(m, contactPath), 'card-member')))))
        : null;
    return h('article', { class: 'card', testid: 'card' }, head, role, facts, payments, members);
}

export async function cardView(api: Api, boot: Boot, root: HTMLElement): Promise<void> {
    const entity = boot.entity!;
    replace(root, h('div', { class: 'loading', testid: 'loading' }, t('app.loading')));
    try {
        const client = await api.client(entity.kind, entity.id);
        replace(root, cardContent(client));
    } catch (err) {
        if (err instanceof ApiError && err.status === 403) {
            replace(root, h('p', { class: 'notice notice-info', testid: 'card-forbidden' }, t('card.forbidden')));
        } else if (err instanceof ApiError && err.status === 404) {
            replace(root, h('p', { class: 'notice notice-info', testid: 'card-not-found' }, t('card.notFound')));
        } else {
            replace(root, errorBox(err, () => void cardView(api, boot, root)));
        }
    }
    performance.mark('b24seg:first-screen');
    document.body.setAttribute('data-first-screen', 'done');
}
