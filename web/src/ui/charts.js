// The trend charts of "Indicateurs" (ui/view_indicators.js), drawn by
// Chart.js (web/node_modules/chart.js, pinned in web/package.json) on a
// <canvas>. This module is loaded with import() by the view only, so
// Chart.js is not in the first screen's bytes (docs/WEB.md "Indicateurs",
// PERFORMANCE.md). Only what a line chart needs is registered (tree-shaken:
// no bar, pie, tooltip, animation code is bundled beyond what Chart.js's
// core keeps).
//
// Readable in black and white: every series is dark, and told apart by its
// line dash and point shape, not by colour alone; the target is a dashed
// line without points. The chart is a picture of the data table next to
// it (the text alternative, what tests read): it says nothing the table
// does not.
import {
  Chart, LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend);

// one look per series: [line dash, point shape, colour], the whole first
const LOOKS = [
  [[], 'circle', '#000000'],
  [[6, 3], 'triangle', '#1f4e79'],
  [[2, 3], 'rect', '#7a2e00'],
  [[10, 3, 2, 3], 'rectRot', '#2d5a27'],
  [[1, 6], 'crossRot', '#4b0082'],
  [[12, 6], 'star', '#5a5a5a'],
];
export const TARGET_DASH = [8, 5];

/** The look of series i (0: the whole CPTS): {dash, point, colour}. */
export function seriesLook(i) {
  const [dash, point, colour] = LOOKS[i % LOOKS.length];
  return { dash, point, colour };
}

/**
 * Draws a line chart on canvas: labels (x axis), series [{label, data:
 * [number|null]}] (the first: the whole CPTS), target (a number drawn as
 * a dashed line, or null), unit ('%', 'j', 'h' or ''). Returns the Chart.
 */
export function lineChart(canvas, { labels, series, target = null, unit = '' }) {
  const datasets = series.map((s, i) => {
    const look = seriesLook(i);
    return {
      label: s.label,
      data: s.data,
      borderColor: look.colour,
      backgroundColor: look.colour,
      borderDash: look.dash,
      borderWidth: i === 0 ? 3 : 2,
      pointStyle: look.point,
      pointRadius: i === 0 ? 5 : 4,
      spanGaps: true,
    };
  });
  if (target !== null && target !== undefined) {
    datasets.push({
      label: 'Objectif',
      data: labels.map(() => target),
      borderColor: '#000000',
      backgroundColor: '#ffffff',
      borderDash: TARGET_DASH,
      borderWidth: 1.5,
      pointRadius: 0,
      pointStyle: 'line',
    });
  }
  return new Chart(canvas, {
    type: 'line',
    data: { labels, datasets },
    options: {
      responsive: false,
      animation: false,
      events: [],
      color: '#000000',
      plugins: {
        legend: { position: 'bottom', labels: { usePointStyle: true, color: '#000000', boxWidth: 30 } },
      },
      scales: {
        x: { ticks: { color: '#000000' }, grid: { color: '#dddddd' } },
        y: {
          beginAtZero: true,
          ticks: { color: '#000000', callback: (v) => `${String(v).replace('.', ',')}${unit ? `\u00a0${unit}` : ''}` },
          grid: { color: '#dddddd' },
        },
      },
    },
  });
}
