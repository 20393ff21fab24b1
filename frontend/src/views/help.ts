// Help: what each segment means and what to do with it, in plain words.

import { h } from '../dom';
import { t } from '../i18n';
import type { Key } from '../i18n';
import type { Settings } from '../types';
import { kModes, kSeries, modeKey, seriesColor, seriesKey } from './segments';

export function helpView(settings: Settings): HTMLElement {
    const params = { active: String(settings.activeMonths), lost: String(settings.lostMonths) };
    return h('section', { class: 'help', testid: 'help' },
        h('div', { class: 'panel' }, h('p', null, t('help.intro'))),
        kModes.map((mode) =>
            h('div', { class: 'panel', testid: `help-${mode}` },
                h('h2', { class: 'panel-title' }, t(modeKey(mode))),
                h('p', { class: 'muted' }, t(`modeHint.${mode}` as Key)),
                h('dl', { class: 'help-list' },
                    kSeries[mode].map((s) => [
                        h('dt', null, h('span', { class: 'swatch', style: { background: seriesColor(mode, s) } }), t(seriesKey(mode, s))),
                        h('dd', null, t(`help.${mode}.${s}` as Key, params)),
                    ])))),
        h('div', { class: 'panel' },
            h('h2', { class: 'panel-title' }, t('help.chartTitle')), h('p', null, t('help.chart')),
            h('h2', { class: 'panel-title' }, t('help.fieldsTitle')), h('p', null, t('help.fields')),
            h('h2', { class: 'panel-title' }, t('help.rightsTitle')), h('p', null, t('help.rights'))));
}
