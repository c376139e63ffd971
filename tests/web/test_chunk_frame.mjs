// test_chunk_frame.mjs — the page's codec of binary chunk frames
// (web/src/net/chunk_frame.js) against docs/PROTOCOL.md "Binary chunk
// frames": the example frame of the document byte for byte (read from the
// document, so the two cannot drift apart), the chunk reply of its second
// example, and every frame the page must not accept or send.
// TAP on stdout.   node tests/web/test_chunk_frame.mjs [SOURCE_ROOT]
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';

const root = process.argv[2] || path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = readFileSync(path.join(root, 'docs', 'PROTOCOL.md'), 'utf8');
const section = (doc.split(/^### Binary chunk frames$/m)[1] || '').split(/^## /m)[0];
const { encodePut, decodeChunk, HEADER } = await import(
  pathToFileURL(path.join(root, 'web', 'src', 'net', 'chunk_frame.js')).href);

const PLAN = 17;
console.log(`1..${PLAN}`);
let n = 0;
let failed = 0;
const ok = (cond, name, detail = '') => {
  n += 1;
  if (!cond) failed += 1;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond && detail) console.log(`# ${String(detail).replace(/\n/g, '\n# ')}`);
};
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
const bytes = (s) => Uint8Array.from(s.trim().split(/\s+/).map((x) => parseInt(x, 16)));
const throws = (fn) => {
  try {
    fn();
    return false;
  } catch (e) {
    return e instanceof RangeError;
  }
};

// the document's example: attachment_put id 22, attachment 00112233…eeff, index 3, idem k1, data 01 02 03
const block = (section.match(/^```\n([0-9a-f \n]+)```$/m) || [])[1] || '';
const want = bytes(block || '00');
ok(want.length === 41, 'PROTOCOL.md shows the example attachment_put frame (41 bytes)', block);
const att = '00112233445566778899aabbccddeeff';
const put = encodePut({ id: 22, attachment: att, index: 3, idem: 'k1', data: Uint8Array.of(1, 2, 3) });
ok(hex(put) === hex(want), 'encodePut gives the document\'s bytes', `${hex(put)}\n${hex(want)}`);

// the document's chunk reply: id 25, index 3, data aa bb (38 bytes)
const reply = bytes(`02 00 00 00  00 00 00 00 00 00 00 19  ${att.match(/../g).join(' ')}
  00 00 00 00 00 00 00 03  aa bb`);
ok(reply.length === 38 && /\(38\s+bytes\)/.test(section), 'the chunk reply example is 38 bytes, as the document says');
const c = decodeChunk(reply.buffer);
ok(c && c.id === 25 && c.index === 3 && c.attachment === att && hex(c.data) === 'aa bb',
  'decodeChunk reads id, attachment, index and data (from an ArrayBuffer)', JSON.stringify(c));
const c2 = decodeChunk(reply);
ok(c2 && c2.id === 25 && hex(c2.data) === 'aa bb', '… and from a Uint8Array');
reply[HEADER] = 0xcc;
ok(c2.data[0] === 0xaa, 'the data is a copy, not a view of the frame');

// large ids and indexes, up to 2^53 - 1, both ways
const big = encodePut({ id: 2 ** 53 - 1, attachment: att, index: 2 ** 40 + 5, idem: 'x', data: Uint8Array.of(9) });
ok(hex(big.subarray(4, 12)) === '00 1f ff ff ff ff ff ff' && hex(big.subarray(28, 36)) === '00 00 01 00 00 00 00 05',
  'ids and indexes up to 2^53 - 1 are written big-endian', hex(big));
const r2 = Uint8Array.from(big);
r2[0] = 2;
r2[1] = 0;
const c3 = decodeChunk(r2);
ok(c3 && c3.id === 2 ** 53 - 1 && c3.index === 2 ** 40 + 5, '… and read back', JSON.stringify(c3));

// frames the page does not accept
const frame = (edit) => {
  const f = bytes(`02 00 00 00  00 00 00 00 00 00 00 19  ${att.match(/../g).join(' ')}
    00 00 00 00 00 00 00 03  aa bb`);
  edit(f);
  return f;
};
ok(decodeChunk(frame(() => {}).subarray(0, HEADER)) === null, 'a header without data is refused');
ok(decodeChunk(frame((f) => { f[0] = 1; })) === null, 'an upload frame (0x01) from the server is refused');
ok(decodeChunk(frame((f) => { f[2] = 1; })) === null, 'nonzero reserved bytes are refused');
ok(decodeChunk(frame((f) => { f[1] = 2; })) === null, 'an idem length in a chunk reply is refused');
ok(decodeChunk(frame((f) => { f[4] = 0x00; f[5] = 0x20; })) === null, 'an id above 2^53 - 1 is refused');

// fields the page never sends
const base = { id: 1, attachment: att, index: 0, idem: 'k', data: Uint8Array.of(1) };
ok(throws(() => encodePut({ ...base, idem: '' })) && throws(() => encodePut({ ...base, idem: 'x'.repeat(65) })),
  'an idem of 0 or more than 64 bytes is never sent');
ok(throws(() => encodePut({ ...base, idem: 'a\nb' })), 'nor one with a control character');
ok(throws(() => encodePut({ ...base, data: new Uint8Array(0) })) && throws(() => encodePut({ ...base, attachment: 'AB' })),
  'nor empty data, nor an attachment that is not 32 lowercase hex characters');
ok(throws(() => encodePut({ ...base, id: -1 })) && throws(() => encodePut({ ...base, index: 2 ** 53 })),
  'nor a negative id or an index above 2^53 - 1');

if (n !== PLAN) console.log(`# planned ${PLAN}, ran ${n}`);
process.exit(failed || n !== PLAN ? 1 : 0);
