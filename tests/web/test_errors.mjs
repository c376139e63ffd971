// test_errors.mjs — every error code of docs/PROTOCOL.md "Errors" has its
// French text in web/src/net/errors.js (the one place the page words them),
// in the form "Ce qui ne va pas : que faire (code)." — read from the
// document, so a code added to the protocol without its French fails here.
// TAP on stdout.   node tests/web/test_errors.mjs [SOURCE_ROOT]
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';

const root = process.argv[2] || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = readFileSync(path.join(root, 'docs', 'PROTOCOL.md'), 'utf8');
const section = (doc.split(/^## Errors$/m)[1] || '').split(/^## /m)[0];
const codes = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
const { frenchError, knownCode } = await import(pathToFileURL(path.join(root, 'web', 'src', 'net', 'errors.js')).href);

console.log('1..3');
let n = 0;
const ok = (cond, name, detail = '') => {
  n += 1;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond && detail) console.log(`# ${String(detail).replace(/\n/g, '\n# ')}`);
  return cond;
};
let fail = 0;
fail += !ok(codes.length >= 30, `PROTOCOL.md "Errors" lists the codes (${codes.length})`, codes.join(' '));
const missing = codes.filter((c) => !knownCode(c));
fail += !ok(missing.length === 0, 'every one has its French text in net/errors.js', `missing: ${missing.join(', ')}`);
const bad = codes.filter((c) => knownCode(c))
  .filter((c) => !new RegExp(`^[A-ZÀ-Ý][^]*\u00a0: [^]+ \\(${c}\\)\\.$`).test(frenchError(c)));
fail += !ok(bad.length === 0, 'each reads "Ce qui ne va pas : que faire (code)."', bad.map((c) => frenchError(c)).join('\n'));
process.exit(fail ? 1 : 0);
