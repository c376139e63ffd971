// Receipts (PROTOCOL.md "Receipts", client/cli/cmd_read.c send_receipts,
// thread_view.c receipt_line): this browser sends `delivered` and `read`
// only up to the first message it does not hold, refused, whose link names
// a message it never got, or (for read) could not decrypt — never over seqs
// the server no longer shows; and shows, per message, who read it and to
// whom it was delivered (the sender left out), from `receipts` and the
// live `receipt` events.
//
//   sendReceipts(eng, v)          -> {delivered, read} sent (0: none)
//   loadReceipts(eng, ch)         -> [{user, delivered, read}]
//   applyReceipt(list, ev)        a `receipt` event into the list
//   receiptUsers(list, msg)       -> {readBy: [user], deliveredTo: [user]}
import { receiptMarks } from './thread.js';

export async function sendReceipts(eng, v) {
  if (!v.meMember) return { delivered: 0, read: 0 };
  const marks = await receiptMarks(eng, v.channel);
  for (const kind of ['delivered', 'read']) {
    if (marks[kind] > 0) await eng.req('receipt', { channel: v.channel, kind, seq: marks[kind] });
  }
  return marks;
}

export async function loadReceipts(eng, ch) {
  try {
    const reply = await eng.req('receipts', { channel: ch });
    return (Array.isArray(reply.receipts) ? reply.receipts : [])
      .filter((r) => r && typeof r.user === 'string')
      .map((r) => ({ user: r.user, delivered: Number(r.delivered) || 0, read: Number(r.read) || 0 }));
  } catch (e) {
    if (e.code === 'forbidden' || e.code === 'not_found') return [];
    throw e;
  }
}

export function applyReceipt(list, ev) {
  if (!ev || typeof ev.user !== 'string' || (ev.kind !== 'read' && ev.kind !== 'delivered')) return;
  let x = list.find((r) => r.user === ev.user);
  if (!x) {
    x = { user: ev.user, delivered: 0, read: 0 };
    list.push(x);
  }
  if (Number.isSafeInteger(ev.seq) && ev.seq > x[ev.kind]) x[ev.kind] = ev.seq;
}

export function receiptUsers(list, m) {
  const readBy = [];
  const deliveredTo = [];
  for (const r of list) {
    if (r.user === m.sender_user) continue;
    if (r.read >= m.seq) readBy.push(r.user);
    else if (r.delivered >= m.seq) deliveredTo.push(r.user);
  }
  return { readBy, deliveredTo };
}
