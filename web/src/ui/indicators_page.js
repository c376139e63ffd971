// The page of "Indicateurs" (#/indicators[/<YYYY-Sn>]; ui/view_indicators.js
// registers the view and loads this module with import() when a coordinator
// opens it, so the first screen carries none of it): a CPTS coordinator's
// semester review for the Assurance Maladie and the ARS (op `report`,
// docs/PROTOCOL.md "Care pathways"; docs/WEB.md "Indicateurs"). For the
// chosen semester (the current one and the five before it in a selector):
// every indicator with its value and unit, numerator/denominator or n, the
// steps not yet due, its target and « atteint » / « non atteint » / « pas
// de donnée » in words; its figures per pathway; its trend over the three
// semesters before (one report request per semester) as a chart
// (ui/charts.js, Chart.js, loaded with import() in turn) beside a data table
// of the same figures. « Télécharger le CSV » saves what `liaison report
// --semester S --csv-fr` prints (core/indicators.js reportCsv); « Imprimer »
// prints the page (the @media print rules of style.css: no navigation or
// buttons). A coordinator may set or remove a target (target_set).
import { h, statusLine } from './dom.js';
import * as cases from '../core/cases.js';
import * as ind from '../core/indicators.js';

const SEMESTERS_SHOWN = 6; // in the selector: the current one and the five before
const TREND = 4; // semesters in a trend: the chosen one and the three before

function figureCells(fig, unit) {
  const k = ind.kindOf(fig);
  return [
    h('td', { class: 'num', 'data-col': 'value', text: ind.valueText(fig, unit) }),
    h('td', { class: 'num', 'data-col': 'numerator', text: k === 'ratio' ? String(fig.numerator) : '' }),
    h('td', { class: 'num', 'data-col': 'denominator', text: k === 'ratio' ? String(fig.denominator) : '' }),
    h('td', { class: 'num', 'data-col': 'n', text: k === 'median' ? String(fig.n) : '' }),
    h('td', { class: 'num', 'data-col': 'not_yet_due', text: k === 'ratio' ? String(fig.not_yet_due || 0) : '' }),
  ];
}

const FIGURE_HEADS = ['Valeur', 'Numérateur', 'Dénominateur', 'n (cas)', 'Pas encore dû'];

/** The indicator's figures: overall, then per pathway (the server's order). */
function figuresTable(row, pw) {
  const unit = row.unit || '';
  const target = row.target || null;
  const by = Object.entries(row.by_pathway || {});
  return h('table', { class: 'ind-figures', 'data-testid': 'figures' },
    h('caption', { text: by.length ? 'Valeur de la CPTS et par parcours' : 'Valeur de la CPTS' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Parcours' }),
      FIGURE_HEADS.map((t) => h('th', { scope: 'col', text: t })),
      h('th', { scope: 'col', text: 'Objectif' }), h('th', { scope: 'col', text: 'Résultat' }))),
    h('tbody', {},
      h('tr', { class: 'ind-all', 'data-pathway': '' },
        h('th', { scope: 'row', text: 'Ensemble' }), figureCells(row, unit),
        h('td', { 'data-col': 'target', text: target ? ind.targetText(target, unit) : '—' }),
        h('td', { 'data-col': 'met', class: `met-${ind.metState(target)}`, text: ind.metText(target) || 'pas d’objectif' })),
      by.map(([code, fig]) => h('tr', { 'data-pathway': code },
        h('th', { scope: 'row', text: cases.pathwayLabel(pw, code) }), figureCells(fig || {}, unit),
        h('td', {}), h('td', {})))));
}

/** The trend: one row per semester (oldest first), a column per series. */
function trendTable(row, tr, pw) {
  const unit = row.unit || '';
  const dec = ind.hasDecimals(row);
  const cell = (v) => h('td', { class: 'num', text: v === null ? '—' : `${ind.frenchNumber(v, dec)}${unit ? `\u00a0${unit}` : ''}` });
  const target = row.target ? row.target.value : null;
  return h('table', { class: 'ind-trend', 'data-testid': 'trend' },
    h('caption', { text: `Évolution sur ${tr.points.length} semestres (données du graphique)` }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Semestre' }),
      h('th', { scope: 'col', text: 'Ensemble' }),
      tr.codes.map((c) => h('th', { scope: 'col', 'data-pathway': c, text: cases.pathwayLabel(pw, c) })),
      target !== null ? h('th', { scope: 'col', text: 'Objectif' }) : null)),
    h('tbody', {}, tr.points.map((p) => h('tr', { 'data-semester': p.semester },
      h('th', { scope: 'row', text: ind.semesterLabel(p.semester) }),
      cell(p.value),
      tr.codes.map((c) => cell(p.by[c])),
      target !== null ? h('td', { class: 'num', text: ind.targetText(row.target, unit) }) : null))));
}

function indicatorCard(row, reports, semesters, pw, charts) {
  const unit = row.unit || '';
  const target = row.target || null;
  const state = ind.metState(target);
  const tr = ind.trend(row.id, semesters, reports);
  const headingId = `ind-${row.id}`;
  const canvas = h('canvas', {
    width: 560, height: 240, role: 'img', 'data-testid': 'chart',
    'aria-label': `Évolution de l’indicateur ${row.id} sur ${tr.points.length} semestres : voir le tableau qui suit`,
  });
  charts.push({
    canvas,
    spec: {
      labels: tr.points.map((p) => ind.semesterShort(p.semester)),
      series: [{ label: 'Ensemble', data: tr.points.map((p) => p.value) }]
        .concat(tr.codes.map((c) => ({ label: cases.pathwayLabel(pw, c), data: tr.points.map((p) => p.by[c]) }))),
      target: target ? target.value : null,
      unit,
    },
  });
  const summary = [
    ['Valeur', ind.valueText(row, unit)],
    ind.basisText(row) ? [ind.kindOf(row) === 'ratio' ? 'Numérateur / dénominateur' : 'Base', ind.basisText(row)] : null,
    ind.notYetDueText(row) ? ['Pas encore dû', ind.notYetDueText(row)] : null,
    ['Objectif', target ? `${ind.targetText(target, unit)} : ${ind.metText(target)}` : 'pas d’objectif'],
  ].filter(Boolean);
  return h('article', { class: `indicator met-${state}`, 'data-indicator': row.id, 'data-met': state,
    'aria-labelledby': headingId },
  h('h2', { id: headingId }, h('span', { class: 'ind-id', text: row.id }), ` ${row.label}`),
  h('p', { class: 'ind-summary', 'data-testid': 'summary' }, summary.flatMap(([k, v], i) =>
    [i ? ' · ' : '', h('span', { class: 'ind-k', text: `${k} : ` }), h('strong', { text: v })])),
  figuresTable(row, pw),
  h('figure', { class: 'ind-chart' }, canvas,
    h('figcaption', { text: `Évolution, ${ind.semesterLabel(semesters[semesters.length - 1])} – ${ind.semesterLabel(semesters[0])} : ligne pleine et ronds pour l’ensemble, un tireté et une forme de point par parcours${target ? ', objectif en tirets longs sans point' : ''}.` })),
  trendTable(row, tr, pw));
}

/** Saves text as a file (a blob: link clicked, then released). */
function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Draws the charts once the view is in the page (Chart.js measures its canvas). */
async function drawCharts(section, charts) {
  for (let i = 0; i < 100 && !section.isConnected; i++) await new Promise((r) => setTimeout(r, 20));
  if (!section.isConnected) return;
  // Chart.js (about 200 kB) is loaded with this page only, not with the first screen
  const { lineChart } = await import('./charts.js');
  for (const c of charts) lineChart(c.canvas, c.spec);
  document.documentElement.dataset.indicatorsCharts = `${section.dataset.semester}:${charts.length}`;
}

function targetForm(ctx, rows, status, semester) {
  const select = h('select', { id: 'ind-target-id' }, rows.map((r) => h('option', { value: r.id, text: `${r.id} ${r.label}` })));
  const value = h('input', { id: 'ind-target-value', type: 'text', inputmode: 'decimal', autocomplete: 'off',
    'aria-describedby': 'ind-target-hint' });
  const direction = h('select', { id: 'ind-target-dir' },
    h('option', { value: '', text: 'sens par défaut de l’indicateur' }),
    h('option', { value: 'ge', text: 'au moins (≥)' }),
    h('option', { value: 'le', text: 'au plus (≤)' }));
  const act = async (remove) => {
    let v = null;
    if (!remove) {
      const p = ind.parseTarget(value.value);
      if (p.error) { status.error(p.error); value.focus(); return; }
      v = p.value;
    }
    try {
      const r = await ind.targetSet(ctx.conn, select.value, v, direction.value || null);
      if (remove && r.removed === false) { status.info(`L’indicateur ${select.value} n’avait pas d’objectif.`); return; }
      ctx.go('indicators', semester);
    } catch (e) {
      status.error(cases.caseError(e));
    }
  };
  return h('form', { class: 'ind-targets no-print', 'aria-label': 'Fixer un objectif', onsubmit: (e) => { e.preventDefault(); act(false); } },
    h('h2', { text: 'Objectifs de la CPTS' }),
    h('p', { class: 'field inline' }, h('label', { for: 'ind-target-id', text: 'Indicateur' }), select),
    h('p', { class: 'field inline' }, h('label', { for: 'ind-target-value', text: 'Objectif' }), value,
      h('small', { id: 'ind-target-hint', text: 'Un nombre dans l’unité de l’indicateur (en % pour un ratio), par exemple 90 ou 12,5.' })),
    h('p', { class: 'field inline' }, h('label', { for: 'ind-target-dir', text: 'Sens' }), direction),
    h('p', {}, h('button', { type: 'submit', text: 'Fixer l’objectif' }), ' ',
      h('button', { type: 'button', text: 'Retirer l’objectif', onclick: () => act(true) })));
}

/** The page for ctx (a user allowed to see it: ui/view_indicators.js checks) and arg (a semester or null). */
export async function render(ctx, arg) {
  const current = ind.semesterOf(new Date());
  const choices = ind.semestersBack(current, SEMESTERS_SHOWN);
  const semester = ind.parseSemester(arg) ? arg : current;
  const semesters = ind.semestersBack(semester, TREND); // newest first
  const status = statusLine();
  let pw = {};
  try {
    pw = await cases.pathways(ctx.conn);
  } catch (e) {
    status.error(cases.caseError(e));
  }
  const replies = await Promise.all(semesters.map((s) => ind.report(ctx.conn, s).then(
    (r) => [s, r], (e) => [s, e])));
  const failed = replies.find(([, r]) => r instanceof Error || !r || !Array.isArray(r.indicators));
  const reports = Object.fromEntries(replies.filter(([, r]) => r && Array.isArray(r.indicators)));
  const main = reports[semester];
  const select = h('select', { id: 'ind-semester', onchange: () => ctx.go('indicators', select.value) },
    (choices.includes(semester) ? choices : [semester, ...choices]).map((s) =>
      h('option', { value: s, text: ind.semesterLabel(s), selected: s === semester })));
  const controls = h('form', { class: 'ind-controls no-print', 'aria-label': 'Choisir le semestre', onsubmit: (e) => e.preventDefault() },
    h('p', { class: 'field inline' }, h('label', { for: 'ind-semester', text: 'Semestre' }), select),
    h('p', {},
      h('button', { type: 'button', disabled: !main, text: 'Télécharger le CSV',
        onclick: () => download(ind.csvName(semester), ind.reportCsv(main, true)) }), ' ',
      h('button', { type: 'button', text: 'Imprimer', onclick: () => window.print() })));
  if (failed) status.error(cases.caseError(failed[1]));
  const cpts = main && main.cpts ? `${main.cpts.name} (FINESS ${main.cpts.finess})` : 'toutes les CPTS';
  const header = h('div', { class: 'ind-header' },
    h('h1', { text: 'Indicateurs' }),
    h('p', { 'data-testid': 'ind-scope' }, h('strong', { text: cpts }), ` — ${ind.semesterLabel(semester)}`,
      main ? ` (du ${main.from} au ${main.to}) — état au ${cases.frenchTime(main.as_of)}` : ''));
  const charts = [];
  const section = h('section', { class: 'indicators-view', 'data-semester': semester },
    header, controls, status.el,
    main ? h('p', { class: 'hint', text: 'Valeur : % pour un ratio (numérateur / dénominateur), médiane pour un délai ' +
      '(sur n cas, en jours entiers ou en heures) ; « — » quand il n’y a rien à compter. Une étape compte une fois son ' +
      'jour d’échéance passé ; « pas encore dû » : les étapes de la période dont le jour n’est pas fini.' }) : null,
    main ? main.indicators.map((row) => indicatorCard(row, reports, semesters, pw, charts)) : null,
    main && cases.hasRole(ctx.me.user, 'coordinator') ? targetForm(ctx, main.indicators, status, semester) : null);
  delete document.documentElement.dataset.indicatorsCharts;
  if (charts.length) drawCharts(section, charts).catch((e) => status.error(`Les graphiques n’ont pas pu être dessinés : ${e.message}`));
  return section;
}

