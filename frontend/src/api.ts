// The JSON API client (server/API.md). Every call carries the session from the boot object.
// When the server answers 401 session_expired, the client asks the portal (through the frame
// SDK) for a fresh AUTH_ID, trades it for a new session, and repeats the call once. Concurrent
// calls that hit the expiry share one refresh.

import type {
    ApiErrorBody,
    Client,
    Dashboard,
    EntityKind,
    ListPage,
    RunRecord,
    Settings,
    Status,
} from './types';

export class ApiError extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
    ) {
        super(message);
    }
}

export type AuthIdSource = () => Promise<string | null>;

type Query = Record<string, string | number | undefined>;

function queryString(params?: Query): string {
    if (!params) {
        return '';
    }
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
        if (v !== undefined && v !== '') {
            qs.set(k, String(v));
        }
    }
    const s = qs.toString();
    return s ? `?${s}` : '';
}

export class Api {
    private session: string;
    private refreshing: Promise<void> | null = null;

    constructor(
        session: string,
        private readonly freshAuthId: AuthIdSource,
        private readonly base = '',
        private readonly fetchFn: typeof fetch = (...args) => fetch(...args),
    ) {
        this.session = session;
    }

    /** Performs a request; returns the raw Response for status < 400, throws ApiError otherwise. */
    async raw(method: string, path: string, body?: unknown, retried = false): Promise<Response> {
        const headers: Record<string, string> = { Authorization: `Bearer ${this.session}` };
        const init: RequestInit = { method, headers, credentials: 'omit', cache: 'no-store' };
        if (body !== undefined) {
            headers['Content-Type'] = 'application/json';
            init.body = JSON.stringify(body);
        }
        let res: Response;
        try {
            res = await this.fetchFn(this.base + path, init);
        } catch {
            throw new ApiError(0, 'network', 'network error');
        }
        if (res.ok) {
            return res;
        }
        const err = await ApiClientErrors.read(res);
        if (res.status === 401 && err.code === 'session_expired' && !retried) {
            await this.refreshSession();
            return this.raw(method, path, body, true);
        }
        throw new ApiError(res.status, err.code, err.message);
    }

    async json<T>(method: string, path: string, body?: unknown): Promise<T> {
        const res = await this.raw(method, path, body);
        if (res.status === 204) {
            return undefined as T;
        }
        try {
            return (await res.json()) as T;
        } catch {
            throw new ApiError(res.status, 'bad_response', 'response is not JSON');
        }
    }

    private refreshSession(): Promise<void> {
        if (!this.refreshing) {
            this.refreshing = (async () => {
                const authId = await this.freshAuthId().catch(() => null);
                if (!authId) {
                    throw new ApiError(401, 'session_expired', 'no fresh AUTH_ID from the portal');
                }
                const res = await this.fetchFn(`${this.base}/api/session/refresh`, {
                    method: 'POST',
                    headers: { 'Content-Type': 'application/json' },
                    body: JSON.stringify({ authId }),
                    credentials: 'omit',
                    cache: 'no-store',
                }).catch(() => {
                    throw new ApiError(0, 'network', 'network error');
                });
                if (!res.ok) {
                    const err = await ApiClientErrors.read(res);
                    throw new ApiError(res.status, err.code, err.message);
                }
                const data = (await res.json()) as { session?: string };
                if (typeof data.session !== 'string' || !data.session) {
                    throw new ApiError(401, 'session_expired', 'refresh gave no session');
                }
                this.session = data.session;
            })().finally(() => {
                this.refreshing = null;
            });
        }
        return this.refreshing;
    }

    dashboard(): Promise<Dashboard> {
        return this.json('GET', '/api/dashboard');
    }

    list(mode: string, series: string, q: string, page: number, pageSize: number): Promise<ListPage> {
        return this.json('GET', `/api/list${queryString({ mode, series, q, page, pageSize })}`);
    }

    /** The whole filtered list as CSV: returns the file's bytes and its name. */
    async listCsv(mode: string, series: string, q: string): Promise<{ blob: Blob; filename: string }> {
        const res = await this.raw('GET', `/api/list.csv${queryString({ mode, series, q })}`);
        const disposition = res.headers.get('Content-Disposition') ?? '';
        const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
        const filename = m?.[1] ? decodeURIComponent(m[1]) : `b24seg-${mode}-${series}.csv`;
        return { blob: await res.blob(), filename };
    }

    client(kind: EntityKind, id: number): Promise<Client> {
        return this.json('GET', `/api/client${queryString({ kind, id })}`);
    }

    status(): Promise<Status> {
        return this.json('GET', '/api/status');
    }

    runs(): Promise<{ items: RunRecord[] }> {
        return this.json('GET', '/api/runs');
    }

    startRun(full: boolean): Promise<unknown> {
        return this.json('POST', '/api/runs', { full });
    }

    clearRefresh(): Promise<unknown> {
        return this.json('POST', '/api/clear-refresh', {});
    }

    settings(): Promise<Settings> {
        return this.json('GET', '/api/settings');
    }

    saveSettings(s: Settings): Promise<Settings | undefined> {
        return this.json('PUT', '/api/settings', s);
    }
}

const ApiClientErrors = {
    /** Reads {"error": {code, message}}; anything else becomes a generic code per status. */
    async read(res: Response): Promise<ApiErrorBody> {
        try {
            const body = (await res.json()) as { error?: Partial<ApiErrorBody> };
            if (body.error && typeof body.error.code === 'string') {
                return { code: body.error.code, message: String(body.error.message ?? '') };
            }
        } catch {
            // not JSON: fall through
        }
        const byStatus: Record<number, string> = {
            400: 'bad_request',
            401: 'unauthorized',
            403: 'forbidden',
            404: 'not_found',
            409: 'conflict',
            413: 'too_large',
            429: 'busy',
            503: 'portal_unavailable',
        };
        return { code: byStatus[res.status] ?? 'internal', message: res.statusText };
    },
};
