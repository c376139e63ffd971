// test_chunk_frame.mjs — the browser's binary chunk frame (web/src/net/
// chunk_frame.js) against docs/PROTOCOL.md "Binary chunk frames": the
// documented put example byte for byte (read from the document), the
// documented chunk reply decoded, and what the C decoder refuses refused.
// TAP on stdout.   node tests/web/test_chunk_frame.mjs [SOURCE_ROOT]
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';

const root = process.argv[2] || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = readFileSync(path.join(root, 'docs', 'PROTOCOL.md'), 'utf8');
const { encodePut, decodeChunk } = await import(
  pathToFileURL(path.join(root, 'web', 'src', 'net', 'chunk_frame.js')).href);

console.log('1..8');
let n = 0;
let fail = 0;
const ok = (cond, name, detail = '') => {
  n += 1;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond && detail) console.log(`# ${String(detail).replace(/\n/g, '\n# ')}`);
  fail += cond ? 0 : 1;
};
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const bytes = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));
const ATT = '00112233445566778899aabbccddeeff';

// the example's code block: the lines of hex pairs after "Example: `attachment_put` id 22"
const section = doc.split('Example: `attachment_put` id 22')[1] || '';
const block = (section.split('```')[1] || '').replace(/\s+/g, '');
const put = encodePut({ id: 22, attachment: ATT, index: 3, idem: 'k1', data: bytes('010203') });
ok(put && put.length === 41, 'the put example is 41 bytes', put && put.length);
ok(put && block.length === 82 && hex(put) === block, 'and equals PROTOCOL.md byte for byte',
  `${put && hex(put)}\n${block}`);

const reply = bytes(`02000000${'0000000000000019'}${ATT}${'0000000000000003'}aabb`);
const c = decodeChunk(reply.buffer);
ok(c && c.id === 25 && c.index === 3 && c.attachment === ATT && hex(c.data) === 'aabb',
  'the documented chunk reply decodes', JSON.stringify(c));
const big = encodePut({ id: 2 ** 53 - 1, attachment: ATT, index: 2 ** 53 - 1, idem: 'x'.repeat(64),
  data: new Uint8Array(65553).fill(7) });
ok(big && big.length === 36 + 64 + 65553 && hex(big.subarray(4, 12)) === '001fffffffffffff',
  'the largest id, index, idem and chunk encode', big && hex(big.subarray(0, 36)));

ok([
  { id: -1 }, { id: 2 ** 53 }, { index: 1.5 }, { idem: '' }, { idem: 'x'.repeat(65) },
  { data: new Uint8Array(0) }, { attachment: 'ABCD' }, { data: [1, 2] },
].every((bad) => encodePut({ id: 1, attachment: ATT, index: 0, idem: 'k', data: bytes('01'), ...bad }) === null),
'out-of-range fields are not encoded');
const refused = [
  reply.slice(0, 36), // no data
  Uint8Array.from([...reply.slice(0, 1), 1, ...reply.slice(2)]), // an idem length on a reply
  Uint8Array.from([1, ...reply.slice(1)]), // a put is not a reply
  Uint8Array.from([...reply.slice(0, 3), 1, ...reply.slice(4)]), // reserved
  Uint8Array.from([...reply.slice(0, 4), 0, 0x20, ...reply.slice(6)]), // id 2^53
  Uint8Array.from([...reply.slice(0, 28), 0xff, ...reply.slice(29)]), // index above
];
ok(refused.every((f) => decodeChunk(f.buffer) === null), 'malformed chunk replies are refused',
  refused.map((f) => JSON.stringify(decodeChunk(f.buffer))).join('\n'));
ok(decodeChunk('text') === null && decodeChunk(new ArrayBuffer(0)) === null, 'non-buffers and empty are refused');
ok(decodeChunk(put.buffer) === null, 'a client\'s put is not taken for a reply');
process.exit(fail ? 1 : 0);
