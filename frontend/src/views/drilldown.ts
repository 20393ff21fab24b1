// The drill-down list of one series: search, paging, CSV export, links that open the card in
// the portal's slider (openPath). Everything from the CRM is set as text.

import type { Api } from '../api';
import { debounce, h, replace } from '../dom';
import { isSafePortalPath, openPath, portalUrl } from '../frame';
import { fmtDate, fmtNumber, t, tDyn } from '../i18n';
import type { Key } from '../i18n';
import type { ListItem, ListPage } from '../types';
import { downloadBlob, errorBox, errorText } from './common';
import { companyPath, linkedLabel } from './linked';
import { seriesKey } from './segments';

const kPageSize = 25;

/** A hidden linked record: the text says so, there is no link. */
export function hiddenMark(testid: string): HTMLElement {
    return h('span', { class: 'muted hidden-ref', testid, title: t('common.hiddenHint') }, t('common.hidden'));
}

/** A linked label as a link to the card, or the hidden mark. */
export function linkedNode(label: { text: string; path: string | null; hidden: boolean }, testid: string): HTMLElement {
    return label.hidden || label.path === null ? hiddenMark(`${testid}-hidden`) : cardLink(label.text, label.path, testid);
}

export function cardLink(name: string, path: string, testid = 'open-card'): HTMLElement {
    if (!isSafePortalPath(path)) {
        return h('span', null, name);
    }
    return h(
        'a',
        {
            href: portalUrl(path),
            class: 'card-link',
            testid,
            'data-path': path,
            on: {
                click: (ev) => {
                    ev.preventDefault();
                    void openPath(path);
                },
            },
        },
        name,
    );
}

function segmentBadges(item: ListItem): HTMLElement {
    const badges: HTMLElement[] = [];
    if (item.lifecycle) {
        badges.push(h('span', { class: `badge lc-${item.lifecycle.toLowerCase()}` }, tDyn(`lifecycle.${item.lifecycle}`, item.lifecycle)));
    }
    if (item.clientType) {
        badges.push(h('span', { class: 'badge' }, tDyn(`clientType.${item.clientType}`, item.clientType)));
    }
    if (item.frequency) {
        badges.push(h('span', { class: 'badge badge-light' }, tDyn(`frequency.${item.frequency}`, item.frequency)));
    }
    return h('div', { class: 'badges' }, badges);
}

function cell(label: Key, ...content: Parameters<typeof h>[2][]): HTMLTableCellElement {
    // One wrapper per cell, so the stacked phone layout (label | value grid) keeps all of a
    // cell's lines in the value column.
    return h('td', { 'data-label': t(label) }, h('div', { class: 'cell' }, ...content));
}

function row(item: ListItem): HTMLTableRowElement {
    const contacts = [...(item.phones ?? []), ...(item.emails ?? [])];
    return h(
        'tr',
        {
            testid: 'list-row',
            'data-kind': item.kind,
            'data-id': item.id,
            'data-assigned-by': item.assignedBy?.id ?? '',
        },
        cell('list.col.name',
            h('div', { class: 'row-name' }, cardLink(item.name || `#${item.id}`, item.path)),
            h('div', { class: 'muted small' }, t(item.kind === 'company' ? 'kind.company' : 'kind.contact'))),
        cell('list.col.segment', segmentBadges(item)),
        cell('list.col.contacts', contacts.length ? contacts.map((c) => h('div', { class: 'nowrap-ellipsis' }, c)) : '—'),
        cell('list.col.company',
            item.company ? linkedNode(linkedLabel(item.company, companyPath), 'open-company') : '—'),
        cell('list.col.responsible', item.assignedBy?.name ?? '—'),
        cell('list.col.created', fmtDate(item.createdAt)),
        cell('list.col.lastPayment', fmtDate(item.lastPayment)),
        cell('list.col.payments', h('span', { class: 'num' }, fmtNumber(item.payments))),
    );
}

export class Drilldown {
    readonly element: HTMLElement;
    private readonly body: HTMLElement;
    private readonly pager: HTMLElement;
    private readonly info: HTMLElement;
    private readonly search: HTMLInputElement;
    private readonly exportBtn: HTMLButtonElement;
    private page = 1;
    private q = '';
    private seq = 0;

    constructor(
        private readonly api: Api,
        private readonly mode: string,
        private readonly series: string,
        onClose: () => void,
    ) {
        const seriesName = t(seriesKey(mode, series));
        this.search = h('input', {
            type: 'search',
            class: 'input',
            placeholder: t('list.search'),
            'aria-label': t('list.searchLabel'),
            testid: 'list-search',
            maxlength: 200,
        });
        this.search.addEventListener(
            'input',
            debounce(() => {
                this.q = this.search.value.trim();
                this.page = 1;
                void this.load();
            }, 300),
        );
        this.exportBtn = h('button', { type: 'button', class: 'btn', testid: 'list-export' }, t('list.export'));
        this.exportBtn.addEventListener('click', () => void this.exportCsv());
        this.body = h('div', { class: 'list-body' });
        this.info = h('div', { class: 'list-info', 'aria-live': 'polite' });
        this.pager = h('div', { class: 'pager' });
        this.element = h(
            'section',
            { class: 'panel drilldown', testid: 'drilldown', 'data-mode': mode, 'data-series': series },
            h('div', { class: 'panel-head' },
                h('h2', { class: 'panel-title' }, t('list.title', { series: seriesName })),
                h('button', { type: 'button', class: 'btn btn-ghost', testid: 'list-close', on: { click: onClose } }, t('list.close'))),
            h('div', { class: 'toolbar' }, this.search, this.exportBtn),
            this.info,
            this.body,
            this.pager,
        );
    }

    async load(): Promise<void> {
        const seq = ++this.seq;
        this.element.setAttribute('aria-busy', 'true');
        this.element.setAttribute('data-loading', 'true');
        let page: ListPage;
        try {
            page = await this.api.list(this.mode, this.series, this.q, this.page, kPageSize);
        } catch (err) {
            if (seq === this.seq) {
                replace(this.body, errorBox(err, () => void this.load()));
                replace(this.info);
                replace(this.pager);
                this.element.removeAttribute('aria-busy');
                this.element.setAttribute('data-loading', 'false');
            }
            return;
        }
        if (seq !== this.seq) {
            return; // a newer search superseded this answer
        }
        this.render(page);
        this.element.removeAttribute('aria-busy');
        this.element.setAttribute('data-loading', 'false');
    }

    private render(page: ListPage): void {
        const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
        this.element.setAttribute('data-total', String(page.total));
        this.element.setAttribute('data-q', page.q ?? this.q);
        replace(
            this.info,
            page.restricted ? h('div', { class: 'notice notice-info', testid: 'list-restricted' }, t('list.restricted')) : null,
            h('div', { class: 'muted', testid: 'list-total' }, t('list.total', { n: page.total })),
        );
        if (page.items.length === 0) {
            replace(this.body, h('p', { class: 'muted empty', testid: 'list-empty' }, this.q ? t('list.emptySearch') : t('list.empty')));
        } else {
            replace(
                this.body,
                h('table', { class: 'table list-table' },
                    h('thead', null,
                        h('tr', null,
                            (['list.col.name', 'list.col.segment', 'list.col.contacts', 'list.col.company',
                              'list.col.responsible', 'list.col.created', 'list.col.lastPayment',
                              'list.col.payments'] as Key[]).map((k) => h('th', { scope: 'col' }, t(k))))),
                    h('tbody', null, page.items.map(row))),
            );
        }
        const prev = h('button', { type: 'button', class: 'btn btn-small', testid: 'list-prev', disabled: page.page <= 1 }, t('list.prev'));
        const next = h('button', { type: 'button', class: 'btn btn-small', testid: 'list-next', disabled: page.page >= pages }, t('list.next'));
        prev.addEventListener('click', () => {
            this.page = Math.max(1, page.page - 1);
            void this.load();
        });
        next.addEventListener('click', () => {
            this.page = page.page + 1;
            void this.load();
        });
        replace(
            this.pager,
            pages > 1 ? [prev, h('span', { class: 'muted', testid: 'list-page' }, t('list.page', { page: page.page, pages })), next] : null,
        );
    }

    private async exportCsv(): Promise<void> {
        this.exportBtn.disabled = true;
        this.exportBtn.textContent = t('list.exporting');
        try {
            const { blob, filename } = await this.api.listCsv(this.mode, this.series, this.q);
            downloadBlob(blob, filename);
        } catch (err) {
            this.info.prepend(h('div', { class: 'notice notice-error', role: 'alert' }, errorText(err)));
        } finally {
            this.exportBtn.disabled = false;
            this.exportBtn.textContent = t('list.export');
        }
    }

    focus(): void {
        this.search.focus({ preventScroll: true });
    }
}
