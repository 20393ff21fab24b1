// Linked records (a contact's company, a company's contact persons, the deals and invoices of a
// payment) are sent by the server only where the user may read them in the portal; otherwise the
// item is {hidden: true}: no name, no link. These helpers turn either form into what a view shows.

import { t } from '../i18n';
import type { ClientPayment, HiddenRef, Linked } from '../types';

export function isHidden(x: unknown): x is HiddenRef {
    return typeof x === 'object' && x !== null && (x as { hidden?: unknown }).hidden === true;
}

/** What to show for a linked record: its name and portal path, or the "no access" text. */
export interface LinkedLabel {
    text: string;
    path: string | null;
    hidden: boolean;
}

export function linkedLabel(x: Linked, pathOf: (id: number) => string): LinkedLabel {
    if (isHidden(x)) {
        return { text: t('common.hidden'), path: null, hidden: true };
    }
    return { text: x.name || `#${x.id}`, path: pathOf(x.id), hidden: false };
}

export function paymentLabel(p: ClientPayment): LinkedLabel {
    if (p.hidden === true) {
        return { text: t('common.hidden'), path: null, hidden: true };
    }
    return { text: p.title || `#${p.id}`, path: p.path, hidden: false };
}

export const companyPath = (id: number): string => `/crm/company/details/${id}/`;
export const contactPath = (id: number): string => `/crm/contact/details/${id}/`;
