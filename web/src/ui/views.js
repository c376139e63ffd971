// The views of the logged-in page, in the order of the navigation bar. A
// view is {id, label, nav, render(ctx, arg)}: render returns the view's
// content (a Node, or a Promise of one) with one <h1>; `nav: false` keeps
// it out of the bar (reached by a link, e.g. one thread). ctx is described
// in ui/shell.js. Add a view by adding its module here.
import threads from './view_threads.js';
import thread from './view_thread.js';
import verify from './view_verify.js'; // "Vérifier un collègue", #/verify[/<user hex>]
import account from './view_account.js';

export const VIEWS = [threads, thread, verify, account];

/** The view shown after unlocking. */
export const HOME = 'threads';
