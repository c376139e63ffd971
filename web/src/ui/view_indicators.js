// "Indicateurs" (#/indicators[/<YYYY-Sn>]): the view of a CPTS's semester
// review (docs/WEB.md "Indicateurs"), in the navigation bar of coordinators
// and the territory role only. Anyone else who opens the URL is told so in
// French and no request is made. The page itself (ui/indicators_page.js,
// core/indicators.js, and Chart.js after them) is loaded with import() when
// the view is opened, so that the first screen carries none of it
// (docs/PERFORMANCE.md "Browser client").
import { h } from './dom.js';
import { hasRole } from '../core/cases.js';

/** May this login's USER see the CPTS indicators (op report)? */
export function mayReport(user) {
  return hasRole(user, 'coordinator') || hasRole(user, 'territory');
}

async function render(ctx, arg) {
  if (!mayReport(ctx.me.user)) {
    return h('section', { class: 'indicators-view' },
      h('h1', { text: 'Indicateurs' }),
      h('p', { class: 'status', 'data-testid': 'not-allowed', text: 'Les indicateurs de la CPTS sont réservés à ses ' +
        'coordinateurs (et au rôle « territoire »). Demandez-les au coordinateur de votre CPTS.' }));
  }
  const page = await import('./indicators_page.js');
  return page.render(ctx, arg);
}

export default { id: 'indicators', label: 'Indicateurs', nav: mayReport, render };
