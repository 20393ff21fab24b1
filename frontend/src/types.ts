// Shapes of the boot object and of the JSON API, as written in server/API.md.

export type Lang = 'ru' | 'en' | 'de' | 'pl';
export type View = 'main' | 'card' | 'install';
export type EntityKind = 'contact' | 'company';

export interface Boot {
    session: string;
    sessionExpiresAt: number;
    view: View;
    lang: Lang;
    placement: string;
    entity?: { kind: EntityKind; id: number };
    user: { id: number; name: string; isAdmin: boolean };
    portal: { domain: string };
    installFinishNeeded: boolean;
}

/** A linked record the user may not read in the portal: no name, no link (server/API.md). */
export interface HiddenRef {
    hidden: true;
}

/** A linked contact or company: readable (id and name) or hidden. */
export type Linked = { id: number; name: string } | HiddenRef;

export type ModeId = 'directories' | 'clients' | 'payments' | 'frequency' | 'no_payments';

export interface Series {
    id: string;
    count: number;
    values: number[];
}

export interface Mode {
    id: ModeId;
    series: Series[];
}

export type SyncState = 'never_run' | 'queued' | 'running' | 'idle' | 'failed' | 'blocked';

export interface Dashboard {
    asOf: string;
    months: string[];
    modes: Mode[];
    sync: { state: SyncState; firstRunDone: boolean; lastFinishedAt?: string | null };
}

export interface ListItem {
    kind: EntityKind;
    id: number;
    name: string;
    phones: string[];
    emails: string[];
    company: Linked | null;
    assignedBy: { id: number; name: string } | null;
    createdAt: string | null;
    lifecycle: string | null;
    clientType: string | null;
    frequency: string | null;
    lastPayment: string | null;
    payments: number | null;
    path: string;
}

export interface ListPage {
    mode: string;
    series: string;
    q: string;
    page: number;
    pageSize: number;
    total: number;
    restricted: boolean;
    items: ListItem[];
}

export type ClientPayment =
    | { date: string; source: 'deal' | 'invoice'; id: number; title: string; path: string; hidden?: false }
    | { date: string; source: 'deal' | 'invoice'; hidden: true };

export interface Client {
    kind: EntityKind;
    id: number;
    name: string;
    role: 'member' | 'client' | 'not_client';
    clientType: string | null;
    parentCompany: Linked | null;
    lifecycle: string | null;
    frequency: string | null;
    lastPayment: string | null;
    payments: number | null;
    hasDialogs: boolean | null;
    hasChannels: boolean | null;
    paymentsList: ClientPayment[];
    dialogs: { count: number; last: string | null } | null;
    channels: string[];
    members?: Linked[];
}

export interface Run {
    id: number;
    kind: 'first' | 'incremental' | 'full' | 'recompute';
    phase?: 'pull' | 'fields' | 'compute' | 'write' | 'done';
    month?: string | null;
    monthsDone?: number;
    monthsTotal?: number;
    rows?: number;
    requests?: number;
    cardsWritten?: number;
    cardsToWrite?: number;
    startedAt?: string | null;
    etaSeconds?: number | null;
}

export interface ApiErrorBody {
    code: string;
    message: string;
}

export interface Status {
    state: SyncState;
    firstRunDone: boolean;
    run?: Run | null;
    error?: ApiErrorBody | null;
}

export interface RunRecord {
    id: number;
    kind: string;
    state: string;
    startedAt: string | null;
    finishedAt: string | null;
    requests: number | null;
    rows: number | null;
    cardsWritten: number | null;
    error: ApiErrorBody | string | null;
}

export interface Settings {
    activeMonths: number;
    lostMonths: number;
}
