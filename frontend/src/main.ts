// Entry point: read the boot object, pick the language, start the portal handshake in the
// background, and render the view the server asked for. The main view's data request starts
// before its code is loaded, so the two travel in parallel.

import { Api } from './api';
import { readBoot } from './boot';
import { h, replace } from './dom';
import { autoFit, freshAuthId, startFrame } from './frame';
import { setLang, t } from './i18n';
import { normalizeLang } from './boot';
import 'uplot/dist/uPlot.min.css';
import './styles.css';

async function run(): Promise<void> {
    const root = document.getElementById('app') ?? document.body.appendChild(h('div', { id: 'app' }));
    let boot;
    try {
        boot = readBoot();
    } catch (err) {
        setLang(normalizeLang(navigator.language));
        replace(root, h('div', { class: 'notice notice-error', role: 'alert', testid: 'boot-error' }, t('error.boot')));
        console.warn('b24seg:', err);
        return;
    }
    setLang(boot.lang);
    document.title = t('app.title');
    document.body.setAttribute('data-view', boot.view);
    startFrame(boot.portal.domain);
    autoFit(root);
    const api = new Api(boot.session, freshAuthId);

    if (boot.view === 'main') {
        const dashboard = api.dashboard();
        dashboard.catch(() => undefined); // handled by the view
        const { MainView } = await import('./views/main');
        await new MainView(api, boot, root).start(dashboard);
    } else if (boot.view === 'card') {
        const { cardView } = await import('./views/card');
        await cardView(api, boot, root);
    } else {
        const { installView } = await import('./views/install');
        installView(api, boot, root);
    }
}

void run();
