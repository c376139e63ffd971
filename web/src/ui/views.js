// The views of the logged-in page, in the order of the navigation bar. A
// view is {id, label, nav, render(ctx, arg), watch?}: render returns the
// view's content (a Node, or a Promise of one) with one <h1>; `nav: false`
// keeps it out of the bar (reached by a link, e.g. one thread), `nav:
// (user) => bool` shows it only to some (the login's USER: a coordinator's
// views); the view itself still says what a user who is not may do; `watch(ctx,
// badge)` runs from login to lock (ui/shell.js). ctx is described in
// ui/shell.js. Add a view by adding its module here.
import threads from './view_threads.js'; // "Messages", #/threads
import thread from './view_thread.js'; // one thread, #/thread/<channel hex>
import cases from './view_cases.js'; // "Mes dossiers", #/cases
import caseView from './view_case.js'; // one case, #/case/<case hex>
import dashboard from './view_dashboard.js'; // "Tableau de bord" (coordinators), #/dashboard
import indicators from './view_indicators.js'; // "Indicateurs", #/indicators[/<YYYY-Sn>] (coordinators)
import notifications from './view_notifications.js'; // "À traiter", #/notifications
import discharge from './view_discharge.js'; // "Avis de sortie", #/discharge/<case hex>
import measure from './view_measure.js'; // "Saisir une mesure", #/measure/<case hex>
import verify from './view_verify.js'; // "Vérifier un collègue", #/verify[/<user hex>]
import account from './view_account.js'; // "Mon compte", #/account

export const VIEWS = [threads, thread, cases, dashboard, indicators, caseView, notifications, discharge,
  measure, verify, account];

/** The view shown after unlocking. */
export const HOME = 'threads';
