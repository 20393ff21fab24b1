// The five modes and their series (server/API.md fixes ids and order), with chart colours.

import type { Key } from '../i18n';
import type { ModeId } from '../types';

export const kModes: readonly ModeId[] = ['directories', 'clients', 'payments', 'frequency', 'no_payments'];

export const kSeries: Record<ModeId, readonly string[]> = {
    directories: ['contacts', 'companies'],
    clients: ['all', 'b2b', 'b2c'],
    payments: ['active', 'sleeping', 'lost'],
    frequency: ['regular', 'first', 'none'],
    no_payments: ['requests', 'dialogs', 'contacts', 'no_contacts'],
};

const kColors: Record<string, string> = {
    'directories.contacts': '#2fc6f6',
    'directories.companies': '#7b61ff',
    'clients.all': '#525c69',
    'clients.b2b': '#7b61ff',
    'clients.b2c': '#2fc6f6',
    'payments.active': '#3bc25a',
    'payments.sleeping': '#f7a700',
    'payments.lost': '#e04b4b',
    'frequency.regular': '#1f8a3b',
    'frequency.first': '#8fd14f',
    'frequency.none': '#a8adb4',
    'no_payments.requests': '#0075ff',
    'no_payments.dialogs': '#00b4ac',
    'no_payments.contacts': '#f7a700',
    'no_payments.no_contacts': '#a8adb4',
};

export function seriesColor(mode: string, series: string): string {
    return kColors[`${mode}.${series}`] ?? '#525c69';
}

export function seriesKey(mode: string, series: string): Key {
    return `series.${mode}.${series}` as Key;
}

export function modeKey(mode: string): Key {
    return `mode.${mode}` as Key;
}
