// QR codes drawn as SVG elements (createElementNS, one <rect> per dark
// module; never an SVG string through innerHTML), from the module matrix of
// qrcode-generator 2.0.4 (web/node_modules). Used by "Vérifier un collègue"
// (ui/view_verify.js) to show the safety number for in-person comparison.
import qrcode from 'qrcode-generator';

const SVG = 'http://www.w3.org/2000/svg';
export const QUIET = 4; // modules of white border, as the QR standard asks
export const LEVEL = 'M'; // error correction: 15 % of the code may be unreadable

// characters of the QR alphanumeric mode: digits, A–Z, space and $%*+-./:
const ALNUM = /^[0-9A-Z $%*+\-./:]*$/;

/** The mode text is encoded in: Alphanumeric when every character allows it (a safety number does), else Byte. */
export function qrMode(text) {
  return ALNUM.test(text) ? 'Alphanumeric' : 'Byte';
}

/** The module matrix of text (rows of booleans, true = dark), smallest version at level M. */
export function qrMatrix(text) {
  const q = qrcode(0, LEVEL);
  q.addData(text, qrMode(text));
  q.make();
  const n = q.getModuleCount();
  const rows = [];
  for (let r = 0; r < n; r++) {
    const row = [];
    for (let c = 0; c < n; c++) row.push(q.isDark(r, c));
    rows.push(row);
  }
  return rows;
}

function svgEl(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * An <svg> of the QR code of text: viewBox in modules (quiet zone
 * included), a white background and one 1×1 <rect> per dark module at
 * (x, y) = (column + QUIET, row + QUIET). label is its accessible name.
 */
export function qrSvg(text, label) {
  const m = qrMatrix(text);
  const n = m.length;
  const size = n + 2 * QUIET;
  const svg = svgEl('svg', {
    viewBox: `0 0 ${size} ${size}`, role: 'img', 'aria-label': label, class: 'qr',
    'shape-rendering': 'crispEdges', 'data-modules': n,
  });
  svg.append(svgEl('rect', { x: 0, y: 0, width: size, height: size, fill: '#fff', class: 'qr-bg' }));
  const g = svgEl('g', { fill: '#000', class: 'qr-dark' });
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (m[r][c]) g.append(svgEl('rect', { x: c + QUIET, y: r + QUIET, width: 1, height: 1 }));
    }
  }
  svg.append(g);
  return svg;
}
