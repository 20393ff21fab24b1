// The monthly chart: uPlot (canvas, fast with many points), months and years on X, clients
// on Y, one line per series, a tooltip with exact numbers on hover, and a legend that toggles
// series. All labels are set as text.

import uPlot from 'uplot';
import { h } from '../dom';
import { fmtMonthSeconds, fmtNumber, fmtYear, monthToSeconds, t } from '../i18n';

export interface ChartSeries {
    id: string;
    label: string;
    color: string;
    values: number[];
}

export interface Chart {
    element: HTMLElement;
    destroy(): void;
}

const kMonthShort = new Map<string, Intl.DateTimeFormat>();

function shortMonth(seconds: number): string {
    const lang = document.documentElement.lang || 'en';
    let f = kMonthShort.get(lang);
    if (!f) {
        f = new Intl.DateTimeFormat(lang, { month: 'short', timeZone: 'UTC' });
        kMonthShort.set(lang, f);
    }
    return f.format(new Date(seconds * 1000));
}

function tooltipPlugin(series: ChartSeries[]): uPlot.Plugin {
    let tip: HTMLDivElement;
    let title: HTMLDivElement;
    let rows: HTMLSpanElement[] = [];
    return {
        hooks: {
            init: (u) => {
                title = h('div', { class: 'chart-tip-title' });
                rows = series.map(() => h('span', { class: 'chart-tip-value' }));
                tip = h(
                    'div',
                    { class: 'chart-tip', testid: 'chart-tooltip', role: 'status' },
                    title,
                    series.map((s, i) =>
                        h('div', { class: 'chart-tip-row' },
                            h('span', { class: 'swatch', style: { background: s.color } }),
                            h('span', { class: 'chart-tip-label' }, s.label),
                            rows[i]),
                    ),
                );
                tip.style.display = 'none';
                u.over.append(tip);
            },
            setCursor: (u) => {
                const idx = u.cursor.idx;
                if (idx === null || idx === undefined || u.cursor.left === undefined || u.cursor.left < 0) {
                    tip.style.display = 'none';
                    return;
                }
                const x = u.data[0][idx] as number;
                title.textContent = fmtMonthSeconds(x, 'long');
                tip.setAttribute('data-index', String(idx));
                series.forEach((s, i) => {
                    rows[i]!.textContent = fmtNumber(s.values[idx] ?? null);
                    rows[i]!.setAttribute('data-value', String(s.values[idx] ?? ''));
                    (rows[i]!.parentElement as HTMLElement).style.opacity = u.series[i + 1]?.show === false ? '0.4' : '1';
                });
                tip.style.display = 'block';
                const overW = u.over.clientWidth;
                const left = u.cursor.left;
                const tipW = tip.offsetWidth;
                tip.style.left = `${left + 12 + tipW > overW ? Math.max(0, left - tipW - 12) : left + 12}px`;
                tip.style.top = '8px';
            },
        },
    };
}

export function createChart(months: string[], series: ChartSeries[], onRendered?: () => void): Chart {
    const plotBox = h('div', { class: 'chart-plot' });
    const legend = h('div', { class: 'chart-legend' });
    const element = h(
        'figure',
        {
            class: 'chart',
            testid: 'chart',
            'data-points': months.length,
            'data-series': series.length,
            'aria-label': t('chart.title'),
        },
        plotBox,
        legend,
    );
    if (months.length === 0) {
        plotBox.append(h('p', { class: 'muted chart-empty' }, t('chart.empty')));
        queueMicrotask(() => onRendered?.());
        return { element, destroy: () => undefined };
    }

    const xs = months.map(monthToSeconds);
    const data: uPlot.AlignedData = [xs, ...series.map((s) => s.values.map((v) => (Number.isFinite(v) ? v : null)))];
    let plot: uPlot | null = null;

    const yAxisSize = (self: uPlot, values: string[] | null): number => {
        const longest = (values ?? []).reduce((m, v) => Math.max(m, v.length), 1);
        void self;
        return Math.ceil(longest * 7.2) + 16;
    };

    const opts = (width: number): uPlot.Options => ({
        width,
        height: width < 520 ? 220 : 300,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        legend: { show: false },
        cursor: { points: { size: 7 }, drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] } },
        axes: [
            {
                space: 56,
                values: (_u, splits) =>
                    splits.map((s) => (new Date(s * 1000).getUTCMonth() === 0 ? fmtYear(s) : shortMonth(s))),
                grid: { stroke: '#eef2f4' },
                ticks: { stroke: '#dfe3e6' },
            },
            {
                values: (_u, splits) => splits.map((s) => fmtNumber(s)),
                size: yAxisSize,
                grid: { stroke: '#eef2f4' },
                ticks: { stroke: '#dfe3e6' },
            },
        ],
        series: [
            {},
            ...series.map((s) => ({
                label: s.label,
                stroke: s.color,
                width: 2,
                points: { show: months.length <= 24 },
            })),
        ],
        plugins: [tooltipPlugin(series)],
    });

    series.forEach((s, i) => {
        const item = h(
            'button',
            { type: 'button', class: 'legend-item', 'aria-pressed': 'true', testid: `legend-${s.id}` },
            h('span', { class: 'swatch', style: { background: s.color } }),
            s.label,
        );
        item.addEventListener('click', () => {
            if (!plot) {
                return;
            }
            const show = !(plot.series[i + 1]?.show ?? true);
            plot.setSeries(i + 1, { show });
            item.setAttribute('aria-pressed', String(show));
        });
        legend.append(item);
    });

    let lastWidth = 0;
    const observer = new ResizeObserver(() => {
        const width = Math.floor(plotBox.clientWidth);
        if (width <= 0 || width === lastWidth) {
            return;
        }
        lastWidth = width;
        if (!plot) {
            plot = new uPlot(opts(width), data, plotBox);
            element.setAttribute('data-rendered', 'true');
            onRendered?.();
        } else {
            plot.setSize({ width, height: width < 520 ? 220 : 300 });
        }
    });
    observer.observe(plotBox);

    return {
        element,
        destroy: () => {
            observer.disconnect();
            plot?.destroy();
            plot = null;
        },
    };
}
