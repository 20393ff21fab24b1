// The main page (also the CRM analytics menu entry): five modes with counters, a monthly chart
// and drill-down lists; help; and, for portal admins only, the admin panel.

import type { Api } from '../api';
import { h, replace } from '../dom';
import { fitWindow, setTitle } from '../frame';
import { fmtDateTime, fmtNumber, t } from '../i18n';
import type { Boot, Dashboard, Mode, ModeId, Settings } from '../types';
import { createChart, type Chart } from './chart';
import { errorBox, pollStatus, progressBlock } from './common';
import { Drilldown } from './drilldown';
import { helpView } from './help';
import { kModes, kSeries, modeKey, seriesColor, seriesKey } from './segments';

type Tab = 'overview' | 'help' | 'admin';

const kDefaultSettings: Settings = { activeMonths: 6, lostMonths: 18 };

/** Puts the API's modes in the contract's order and fills in any the server left out. */
export function normalizeModes(d: Dashboard): Mode[] {
    return kModes.map((id) => {
        const m = d.modes?.find((x) => x.id === id);
        return {
            id,
            series: kSeries[id].map((sid) => {
                const s = m?.series?.find((x) => x.id === sid);
                return { id: sid, count: s?.count ?? 0, values: s?.values ?? [] };
            }),
        };
    });
}

export class MainView {
    private readonly root: HTMLElement;
    private readonly content = h('div', { class: 'content' });
    private readonly nav = h('nav', { class: 'tabs', role: 'tablist' });
    private readonly asOf = h('div', { class: 'muted small', testid: 'as-of' });
    private dashboard: Dashboard | null = null;
    private mode: ModeId = 'directories';
    private tab: Tab = 'overview';
    private chart: Chart | null = null;
    private drilldown: Drilldown | null = null;
    private poller: { stop: () => void } | null = null;
    private admin: import('./admin').AdminPanel | null = null;
    private settings: Settings = kDefaultSettings;
    private firstScreenMarked = false;

    constructor(
        private readonly api: Api,
        private readonly boot: Boot,
        root: HTMLElement,
    ) {
        this.root = root;
    }

    async start(dashboardPromise: Promise<Dashboard>): Promise<void> {
        replace(this.root,
            h('header', { class: 'app-header' },
                h('div', null, h('h1', { class: 'app-title' }, t('app.title')), this.asOf),
                this.nav),
            this.content);
        this.renderNav();
        replace(this.content, h('div', { class: 'loading', testid: 'loading' }, t('app.loading')));
        void setTitle(t('app.title')).catch(() => undefined);
        void this.api.settings().then((s) => { this.settings = s; }).catch(() => undefined);
        try {
            this.dashboard = await dashboardPromise;
        } catch (err) {
            replace(this.content, errorBox(err, () => void this.start(this.api.dashboard())));
            this.markFirstScreen();
            return;
        }
        this.render();
    }

    private renderNav(): void {
        const tabs: Tab[] = ['overview', 'help'];
        if (this.boot.user.isAdmin) {
            tabs.push('admin');
        }
        const label = { overview: t('nav.overview'), help: t('nav.help'), admin: t('nav.admin') };
        replace(this.nav, tabs.map((tab) => {
            const b = h('button', {
                type: 'button', role: 'tab', class: 'tab', testid: `nav-${tab}`,
                'aria-selected': String(tab === this.tab),
            }, label[tab]);
            b.addEventListener('click', () => {
                this.tab = tab;
                this.renderNav();
                this.render();
            });
            return b;
        }));
    }

    private render(): void {
        this.chart?.destroy();
        this.chart = null;
        if (this.tab !== 'admin') {
            this.admin?.stop();
        }
        if (this.tab === 'help') {
            replace(this.content, helpView(this.settings));
            return;
        }
        if (this.tab === 'admin' && this.boot.user.isAdmin) {
            void this.renderAdmin();
            return;
        }
        this.renderOverview();
    }

    private async renderAdmin(): Promise<void> {
        if (!this.admin) {
            const { AdminPanel } = await import('./admin');
            this.admin = new AdminPanel(this.api, (s) => { this.settings = s; }, () => void this.reload());
        }
        replace(this.content, this.admin.element);
        this.admin.start();
    }

    private async reload(): Promise<void> {
        try {
            this.dashboard = await this.api.dashboard();
        } catch {
            return;
        }
        if (this.tab === 'overview') {
            this.render();
        }
    }

    private renderOverview(): void {
        const d = this.dashboard;
        if (!d) {
            return;
        }
        this.asOf.textContent = d.asOf ? t('app.asOf', { date: fmtDateTime(d.asOf) }) : '';
        const modes = normalizeModes(d);
        const mode = modes.find((m) => m.id === this.mode) ?? modes[0]!;
        const syncBox = h('div', { testid: 'sync-banner' });
        const modeTabs = h('div', { class: 'mode-tabs', role: 'tablist', testid: 'modes' },
            modes.map((m) => {
                const b = h('button', {
                    type: 'button', role: 'tab', class: 'mode-tab', testid: `mode-${m.id}`,
                    'aria-selected': String(m.id === mode.id),
                }, t(modeKey(m.id)));
                b.addEventListener('click', () => {
                    if (this.mode !== m.id) {
                        this.mode = m.id;
                        this.drilldown = null;
                        this.render();
                    }
                });
                return b;
            }));
        const counters = h('div', { class: 'counters', testid: 'counters', 'data-mode': mode.id },
            mode.series.map((s) => {
                const selected = this.drilldown !== null && this.drilldownSeries === s.id;
                const b = h('button', {
                    type: 'button', class: 'counter', testid: `counter-${mode.id}-${s.id}`,
                    'data-value': s.count, 'aria-pressed': String(selected), title: t('counter.open'),
                },
                h('span', { class: 'counter-label' }, h('span', { class: 'swatch', style: { background: seriesColor(mode.id, s.id) } }), t(seriesKey(mode.id, s.id))),
                h('span', { class: 'counter-value' }, fmtNumber(s.count)));
                b.addEventListener('click', () => this.openDrilldown(mode.id, s.id));
                return b;
            }));
        const chart = createChart(
            d.months ?? [],
            mode.series.map((s) => ({ id: s.id, label: t(seriesKey(mode.id, s.id)), color: seriesColor(mode.id, s.id), values: s.values })),
            () => this.markFirstScreen(),
        );
        this.chart = chart;
        const drillBox = h('div', { testid: 'drilldown-box' });
        replace(this.content,
            syncBox,
            modeTabs,
            h('p', { class: 'muted mode-hint' }, t(`modeHint.${mode.id}`)),
            counters,
            h('section', { class: 'panel chart-panel' }, h('h2', { class: 'panel-title' }, t('chart.title')), chart.element),
            drillBox);
        if (this.drilldown) {
            drillBox.append(this.drilldown.element);
        }
        this.renderSync(syncBox, d);
    }

    private drilldownSeries = '';

    private openDrilldown(mode: ModeId, series: string): void {
        this.drilldownSeries = series;
        this.drilldown = new Drilldown(this.api, mode, series, () => {
            this.drilldown = null;
            this.drilldownSeries = '';
            this.render();
        });
        this.render();
        void this.drilldown.load().then(() => fitWindow());
        this.drilldown.element.scrollIntoView({ block: 'nearest' });
    }

    private renderSync(box: HTMLElement, d: Dashboard): void {
        this.poller?.stop();
        this.poller = null;
        const s = d.sync;
        if (s && s.firstRunDone && s.state !== 'blocked') {
            return;
        }
        // Before the first run has finished (or when the job needs a person) the page shows
        // the progress and reloads the dashboard once the first run is done.
        this.poller = pollStatus(this.api, (status) => {
            replace(box, h('div', { class: 'panel' },
                h('p', null, status.firstRunDone ? '' : t(status.state === 'never_run' ? 'progress.noRun' : 'progress.firstRun')),
                progressBlock(status)));
            if (status.firstRunDone && status.state !== 'blocked' && !d.sync.firstRunDone) {
                void this.reload();
                return false;
            }
            return true;
        }, (e) => replace(box, errorBox(e)), 3000);
    }

    private markFirstScreen(): void {
        if (this.firstScreenMarked) {
            return;
        }
        this.firstScreenMarked = true;
        performance.mark('b24seg:first-screen');
        document.body.setAttribute('data-first-screen', 'done');
        fitWindow();
    }
}
