// stats.js — latency lists and their percentiles, and CPU seconds of a
// process from /proc/PID/stat (utime + stime) and of this one.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** A growing list of latencies in ms. */
export class Lat {
  constructor() { this.v = new Float64Array(1024); this.n = 0; }
  add(ms) {
    if (this.n === this.v.length) { const w = new Float64Array(this.n * 2); w.set(this.v); this.v = w; }
    this.v[this.n++] = ms;
  }
  /** {n, p50, p99, p999, max} in ms (nearest rank). */
  summary() {
    const s = this.v.slice(0, this.n).sort();
    const q = (p) => (this.n ? s[Math.min(this.n - 1, Math.ceil(p * this.n) - 1)] : 0);
    return { n: this.n, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: this.n ? s[this.n - 1] : 0 };
  }
}

let tck = 0;
/** CPU seconds (user + system) of process pid, or null if it is gone. */
export function procCpu(pid) {
  if (!tck) tck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / tck;   // fields 14 and 15 of stat(5)
  } catch { return null; }
}
/** RSS of pid in KiB from /proc/PID/status. */
export function procRss(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
}
/** CPU seconds used by this process so far. */
export function selfCpu() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
/** The CPUs this process may run on (Cpus_allowed_list). */
export function allowedCpus(pid = 'self') {
  try {
    const m = /Cpus_allowed_list:\s+(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? m[1] : '?';
  } catch { return '?'; }
}

/** Seconds the threads of pid have spent runnable but waiting for a CPU
 *  (/proc/PID/task/TID/schedstat, second field): on a shared machine, the
 *  time other processes took from it. null if unreadable. */
export function procWait(pid = process.pid) {
  try {
    let ns = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[1]);
    }
    return ns / 1e9;
  } catch { return null; }
}
