// A tiny element builder. Every string child becomes a Text node and every attribute is set
// with setAttribute, so CRM data (untrusted text) is never parsed as HTML. There is no
// innerHTML anywhere in the frontend; keep it that way.

export type Child = Node | string | number | null | undefined | false | Child[];

export interface Attrs {
    class?: string;
    testid?: string;
    style?: Partial<CSSStyleDeclaration>;
    on?: Partial<{ [K in keyof HTMLElementEventMap]: (ev: HTMLElementEventMap[K]) => void }>;
    [attr: string]: unknown;
}

export function h<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    attrs?: Attrs | null,
    ...children: Child[]
): HTMLElementTagNameMap[K] {
    const el = document.createElement(tag);
    if (attrs) {
        for (const [key, value] of Object.entries(attrs)) {
            if (value === undefined || value === null || value === false) {
                continue;
            }
            if (key === 'on') {
                for (const [ev, fn] of Object.entries(value as Record<string, EventListener>)) {
                    el.addEventListener(ev, fn);
                }
            } else if (key === 'testid') {
                el.setAttribute('data-testid', String(value));
            } else if (key === 'class') {
                el.className = String(value);
            } else if (key === 'style' && typeof value === 'object') {
                // CSSOM, not the style attribute: allowed under a CSP without 'unsafe-inline'.
                Object.assign(el.style, value);
            } else if (value === true) {
                el.setAttribute(key, '');
            } else {
                el.setAttribute(key, String(value));
            }
        }
    }
    append(el, children);
    return el;
}

export function append(parent: Node, children: Child[]): void {
    for (const child of children) {
        if (child === null || child === undefined || child === false) {
            continue;
        }
        if (Array.isArray(child)) {
            append(parent, child);
        } else if (child instanceof Node) {
            parent.appendChild(child);
        } else {
            parent.appendChild(document.createTextNode(String(child)));
        }
    }
}

/** Replaces all children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
    el.replaceChildren();
    append(el, children);
}

/** Schedules `fn` to run `ms` after the last call (for search inputs). */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return (...args: A) => {
        if (timer !== undefined) {
            clearTimeout(timer);
        }
        timer = setTimeout(() => fn(...args), ms);
    };
}
