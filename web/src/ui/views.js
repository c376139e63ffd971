// The views of the logged-in page, in the order of the navigation bar. A
// view is {id, label, nav, render(ctx, arg)}: render returns the view's
// content (a Node, or a Promise of one) with one <h1>; `nav: false` keeps
// it out of the bar (reached by a link, e.g. one thread). ctx is described
// in ui/shell.js. Add a view by adding its module here.
import account from './view_account.js';

export const VIEWS = [account];

/** The view shown after unlocking. */
export const HOME = 'account';

import verify from './view_verify.js'; // "Vérifier un collègue", #/verify[/<user hex>]
VIEWS.push(verify);
import discharge from './view_discharge.js'; // "Avis de sortie", #/discharge/<case hex>
VIEWS.push(discharge);
import measure from './view_measure.js'; // "Saisir une mesure", #/measure/<case hex>
VIEWS.push(measure);
