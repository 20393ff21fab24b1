// Everything that talks to the portal goes through the official frame SDK (@bitrix24/b24jssdk).
// The SDK is loaded as a separate chunk so that the first screen never waits for it: the pages
// get their data from our own API with the session from the boot object, and only need the
// SDK for portal actions (openPath, resizing, installFinish, a fresh AUTH_ID).

import type { B24Frame } from './sdk';

const kInitTimeoutMs = 8000;

let framePromise: Promise<B24Frame | null> | null = null;
let portalDomain = '';

/** Starts the SDK handshake with the portal (idempotent). Resolves to null outside a portal frame. */
export function startFrame(domain: string): Promise<B24Frame | null> {
    portalDomain = domain;
    if (framePromise) {
        return framePromise;
    }
    framePromise = (async () => {
        if (window.parent === window) {
            return null; // opened directly, not inside a portal
        }
        try {
            const sdk = await import('./sdk');
            let timer: ReturnType<typeof setTimeout> | undefined;
            const timeout = new Promise<never>((_resolve, reject) => {
                timer = setTimeout(() => reject(new Error('frame init timeout')), kInitTimeoutMs);
            });
            try {
                return await Promise.race([sdk.initializeB24Frame(), timeout]);
            } finally {
                clearTimeout(timer);
            }
        } catch (err) {
            console.warn('b24seg: portal frame SDK unavailable', err);
            return null;
        }
    })();
    return framePromise;
}

export function frame(): Promise<B24Frame | null> {
    return framePromise ?? Promise.resolve(null);
}

/** Only portal-relative CRM card paths are ever opened. */
export function isSafePortalPath(path: unknown): path is string {
    return typeof path === 'string' && /^\/crm\/(contact|company|deal|lead|type\/\d+)\/details\/\d+\/$/.test(path);
}

/** Absolute URL of a portal path, for the href of links (the click goes through openPath). */
export function portalUrl(path: string): string {
    return portalDomain ? `https://${portalDomain}${path}` : path;
}

/** Opens a CRM card in the portal's slider. Outside a frame it falls back to a new tab. */
export async function openPath(path: string): Promise<void> {
    if (!isSafePortalPath(path)) {
        return;
    }
    const b24 = await frame();
    if (b24) {
        try {
            await b24.slider.openPath(b24.slider.getUrl(path));
        } catch (err) {
            console.warn('b24seg: the portal could not open', path, err);
        }
    } else {
        window.open(portalUrl(path), '_blank', 'noopener');
    }
}

/** Asks the portal for a fresh AUTH_ID (for POST /api/session/refresh). */
export async function freshAuthId(): Promise<string | null> {
    const b24 = await frame();
    if (!b24) {
        return null;
    }
    const auth = await b24.auth.refreshAuth();
    return auth && typeof auth.access_token === 'string' ? auth.access_token : null;
}

/** Tells the portal that the installer has finished. Returns false when it could not be called. */
export async function installFinish(): Promise<boolean> {
    const b24 = await frame();
    if (!b24 || !b24.isInstallMode) {
        return false;
    }
    await b24.installFinish();
    return true;
}

export async function setTitle(title: string): Promise<void> {
    const b24 = await frame();
    if (b24) {
        await b24.parent.setTitle(title);
    }
}

let fitScheduled = false;
let lastHeight = -1;

/**
 * Resizes the portal's iframe to our content height, coalesced to one message per animation
 * frame. The SDK's fitWindow() measures the document, which is never smaller than the iframe,
 * so it can only grow the frame; we measure our root element instead and send the same
 * resizeWindow command with width 100% so that the frame also shrinks.
 */
export function fitWindow(): void {
    if (fitScheduled) {
        return;
    }
    fitScheduled = true;
    requestAnimationFrame(() => {
        fitScheduled = false;
        void frame().then(async (b24) => {
            if (!b24) {
                return;
            }
            // The body is as tall as its content (it is never stretched to the frame), so its
            // box plus its margins is the height the frame needs.
            const style = getComputedStyle(document.body);
            const height = Math.ceil(
                document.body.getBoundingClientRect().height +
                    parseFloat(style.marginTop) +
                    parseFloat(style.marginBottom),
            );
            if (height === lastHeight || height <= 0) {
                return;
            }
            lastHeight = height;
            const { MessageCommands } = await import('./sdk');
            await b24.parent.message.send(MessageCommands.resizeWindow, {
                width: '100%',
                height,
                isSafely: true,
            });
        });
    });
}

/** Keeps the iframe as tall as the content while the page changes. */
export function autoFit(root: HTMLElement): void {
    const observer = new ResizeObserver(() => fitWindow());
    observer.observe(root);
    fitWindow();
}
