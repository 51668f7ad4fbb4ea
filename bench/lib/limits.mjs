// Per-process open-file limits, and how to run a child above the soft one. A server holding N
// streams needs N descriptors and some; so does a client process opening them. A child gets a
// raised soft limit (up to the hard one) through `sh -c 'ulimit -n N && exec …'`; past the hard
// limit nothing can be done without privileges, and the caller says so instead of running.
import { execFileSync } from 'node:child_process';

/** Descriptors a process needs to hold `connections` sockets (plus files, pipes, Postgres, Redis). */
export const descriptorsFor = (connections) => connections + 1024;

/** {soft, hard} of `ulimit -n` for children of this process (Infinity when unlimited). */
export function openFileLimits() {
  const [soft, hard] = execFileSync('/bin/sh', ['-c', 'ulimit -Sn; ulimit -Hn']).toString().trim().split('\n');
  const parse = (v) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: parse(soft), hard: parse(hard) };
}

/** The command and arguments that start `command args…` with at least `openFiles` descriptors. */
export function withOpenFiles(openFiles, command, args) {
  if (!openFiles) return { command, args };
  return { command: '/bin/sh', args: ['-c', `ulimit -n ${openFiles} && exec "$0" "$@"`, command, ...args] };
}
