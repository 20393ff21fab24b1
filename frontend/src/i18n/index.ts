// Translation and locale formatting. One language per page load (the portal's), chosen once.

import type { Lang } from '../types';
import { de } from './de';
import { en, type Dict, type Key } from './en';
import { pl } from './pl';
import { ru } from './ru';

export type { Key };

const kDicts: Record<Lang, Dict> = { en, ru, de, pl };

let lang: Lang = 'en';
let dict: Dict = en;
let numberFmt = new Intl.NumberFormat('en');

export function setLang(l: Lang): void {
    lang = l;
    dict = kDicts[l];
    numberFmt = new Intl.NumberFormat(l);
    document.documentElement.lang = l;
}

export function currentLang(): Lang {
    return lang;
}

/** Translates `key`, replacing {name} placeholders with `params` (numbers are formatted). */
export function t(key: Key, params?: Record<string, string | number>): string {
    const template = dict[key] ?? en[key] ?? key;
    if (!params) {
        return template;
    }
    return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
        const value = params[name];
        if (value === undefined) {
            return whole;
        }
        return typeof value === 'number' ? numberFmt.format(value) : value;
    });
}

/** Whether `key` exists (for keys built from API ids, which may be new to this build). */
export function has(key: string): key is Key {
    return Object.prototype.hasOwnProperty.call(en, key);
}

/** Translates a key built at run time; unknown keys fall back to `fallback`. */
export function tDyn(key: string, fallback: string): string {
    return has(key) ? t(key) : fallback;
}

export function fmtNumber(n: number | null | undefined): string {
    return typeof n === 'number' && Number.isFinite(n) ? numberFmt.format(n) : '—';
}

// Dates arrive as the portal writes them ("2024-09-09T02:00:00+03:00"). They are shown as the
// portal's local wall time written in the string, not converted to the browser's time zone, so
// that every user sees the same day as the CRM shows.
const kIso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/;

function wallClock(iso: string): Date | null {
    const m = kIso.exec(iso);
    if (!m) {
        return null;
    }
    return new Date(
        Date.UTC(
            Number(m[1]),
            Number(m[2]) - 1,
            Number(m[3]),
            Number(m[4] ?? 0),
            Number(m[5] ?? 0),
            Number(m[6] ?? 0),
        ),
    );
}

export function fmtDate(iso: string | null | undefined): string {
    const d = iso ? wallClock(iso) : null;
    return d
        ? new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(d)
        : '—';
}

export function fmtDateTime(iso: string | null | undefined): string {
    const d = iso ? wallClock(iso) : null;
    return d
        ? new Intl.DateTimeFormat(lang, {
              dateStyle: 'medium',
              timeStyle: 'short',
              timeZone: 'UTC',
          }).format(d)
        : '—';
}

/** "2019-04" → a UTC timestamp (seconds) of the month's first day, for the chart's x axis. */
export function monthToSeconds(month: string): number {
    const [y, m] = month.split('-').map(Number);
    return Date.UTC(y ?? 1970, (m ?? 1) - 1, 1) / 1000;
}

const monthFmtCache = new Map<string, Intl.DateTimeFormat>();

function monthFmt(style: 'short' | 'long'): Intl.DateTimeFormat {
    const k = `${lang}/${style}`;
    let f = monthFmtCache.get(k);
    if (!f) {
        f = new Intl.DateTimeFormat(lang, {
            month: style === 'short' ? 'short' : 'long',
            year: 'numeric',
            timeZone: 'UTC',
        });
        monthFmtCache.set(k, f);
    }
    return f;
}

/** "2019-04" → "Apr 2019" / "апр. 2019 г." */
export function fmtMonth(month: string, style: 'short' | 'long' = 'long'): string {
    return monthFmt(style).format(new Date(monthToSeconds(month) * 1000));
}

export function fmtMonthSeconds(seconds: number, style: 'short' | 'long' = 'short'): string {
    return monthFmt(style).format(new Date(seconds * 1000));
}

export function fmtYear(seconds: number): string {
    return String(new Date(seconds * 1000).getUTCFullYear());
}

/** A duration in seconds as "5 minutes" / "2 hours" in the page language. */
export function fmtDuration(seconds: number): string {
    if (seconds < 3600) {
        const minutes = Math.max(1, Math.round(seconds / 60));
        return new Intl.NumberFormat(lang, { style: 'unit', unit: 'minute', unitDisplay: 'long' }).format(minutes);
    }
    const hours = Math.round((seconds / 3600) * 10) / 10;
    return new Intl.NumberFormat(lang, {
        style: 'unit',
        unit: 'hour',
        unitDisplay: 'long',
        maximumFractionDigits: 1,
    }).format(hours);
}
