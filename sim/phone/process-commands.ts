/** Processes from the shell: ps, pidof, pgrep and kill, over the phone's native daemons and app processes. */
import type { CommandContext, CommandHandler } from './command.js';

/** All processes: kernel and native daemons first, then app processes. */
function processRows(
  c: CommandContext,
): { user: string; pid: number; ppid: number; vsz: number; rss: number; name: string }[] {
  const state = c.phone.state;
  const rows = [
    { user: 'root', pid: 1, ppid: 0, vsz: 10_932_064, rss: 11_476, name: 'init' },
    { user: 'root', pid: 2, ppid: 0, vsz: 0, rss: 0, name: '[kthreadd]' },
    { user: 'logd', pid: 312, ppid: 1, vsz: 10_979_872, rss: 6_404, name: 'logd' },
    { user: 'system', pid: 640, ppid: 1, vsz: 10_885_312, rss: 9_108, name: 'servicemanager' },
    { user: 'root', pid: 702, ppid: 1, vsz: 1_234_504, rss: 24_720, name: 'netd' },
    { user: 'root', pid: 741, ppid: 1, vsz: 16_587_232, rss: 121_484, name: 'zygote64' },
    { user: 'system', pid: 812, ppid: 1, vsz: 11_402_716, rss: 41_204, name: 'surfaceflinger' },
    { user: 'shell', pid: 926, ppid: 1, vsz: 10_951_868, rss: 3_320, name: 'adbd' },
    { user: 'system', pid: 1161, ppid: 741, vsz: 21_440_908, rss: 402_932, name: 'system_server' },
  ];
  for (const p of state.apps.processes.values()) {
    const user = p.uid === 1000 ? 'system' : p.uid >= 10_000 ? `u0_a${p.uid - 10_000}` : String(p.uid);
    rows.push({
      user,
      pid: p.pid,
      ppid: 741,
      vsz: 14_000_000 + (p.pid % 997) * 1000,
      rss: 80_000 + (p.pid % 313) * 100,
      name: p.name,
    });
  }
  return rows;
}

const PS_HELP = `usage: ps [-AadefLlnwZ] [-gG GROUP,] [-k FIELD,] [-o FIELD,] [-p PID,] [-t TTY,] [-uU USER,]

List processes.

Which processes to show (-gGuUpPt selections may be comma separated lists):

-A	All			-a	Has terminal not session leader
-d	All but session leaders		-e	Synonym for -A
-g	In GROUPs			-G	In real GROUPs (before sgid)
-p	PIDs (--pid)			-P	Parent PIDs (--ppid)
-s	In session IDs			-t	Attached to selected TTYs
-T	Show threads also		-u	Owned by selected USERs
-U	Real USERs (before suid)

Output modifiers:

-k	Sort FIELDs (-FIELD to reverse)	-M	Measure/pad future field widths
-n	Show numeric USER and GROUP	-w	Wide output (don't truncate fields)
`;

const ps: CommandHandler = async (c) => {
  if (c.args.includes('--help')) {
    await c.out(PS_HELP);
    return 0;
  }
  const all = c.args.some((a) => a === '-A' || a === '-e' || a === '-ef' || a === '-Af');
  const names = c.args.filter((a) => !a.startsWith('-'));
  let rows = processRows(c);
  if (!all && names.length === 0) {
    const shPid = 20_000 + (Date.now() % 1000);
    rows = [
      {
        user: c.uid === 0 ? 'root' : 'shell',
        pid: shPid,
        ppid: 926,
        vsz: 10_834_412,
        rss: 2_896,
        name: 'sh',
      },
      {
        user: c.uid === 0 ? 'root' : 'shell',
        pid: shPid + 3,
        ppid: shPid,
        vsz: 10_873_372,
        rss: 3_744,
        name: 'ps',
      },
    ];
  }
  if (names.length) rows = rows.filter((r) => names.includes(r.name) || names.includes(String(r.pid)));
  const lines = [
    'USER            PID   PPID     VSZ    RSS WCHAN            ADDR S NAME                       ',
  ];
  for (const r of rows) {
    lines.push(
      `${r.user.padEnd(12)} ${String(r.pid).padStart(6)} ${String(r.ppid).padStart(6)} ${String(r.vsz).padStart(7)} ${String(r.rss).padStart(6)} ${'do_epoll_wait'.padEnd(16)} ${'0'.padStart(4)} S ${r.name}`,
    );
  }
  await c.out(`${lines.join('\n')}\n`);
  return 0;
};

const pidof: CommandHandler = async (c) => {
  const pids = processRows(c)
    .filter((r) => c.args.includes(r.name))
    .map((r) => r.pid);
  if (pids.length === 0) return 1;
  await c.out(`${pids.join(' ')}\n`);
  return 0;
};

const pgrep: CommandHandler = async (c) => {
  const exact = c.args.includes('-x');
  const pattern = c.args.filter((a) => !a.startsWith('-'))[0];
  if (pattern === undefined) {
    await c.err('pgrep: Need 1 argument\n');
    return 2;
  }
  let re: RegExp;
  try {
    re = new RegExp(exact ? `^(?:${pattern})$` : pattern);
  } catch {
    await c.err(`pgrep: bad regex '${pattern}'\n`);
    return 2;
  }
  const pids = processRows(c)
    .filter((r) => re.test(r.name))
    .map((r) => r.pid);
  if (pids.length === 0) return 1;
  await c.out(pids.map((p) => `${p}\n`).join(''));
  return 0;
};

const kill: CommandHandler = async (c) => {
  const state = c.phone.state;
  let failed = false;
  for (const a of c.args.filter((x) => !x.startsWith('-'))) {
    const pid = Number(a);
    const proc = [...state.apps.processes.values()].find((p) => p.pid === pid);
    if (!proc) {
      if (!processRows(c).some((r) => r.pid === pid)) await c.err(`kill: ${a}: No such process\n`);
      else await c.err(`kill: ${a}: Operation not permitted\n`);
      failed = true;
      continue;
    }
    if (c.uid !== 0 && proc.uid !== 2000) {
      await c.err(`kill: ${a}: Operation not permitted\n`);
      failed = true;
      continue;
    }
    for (const [component, run] of c.phone.instrumentations) {
      if (run.targetPackage === proc.name || component.startsWith(`${proc.name}/`)) run.stop();
    }
    state.apps.forceStop(proc.name);
  }
  return failed ? 1 : 0;
};

/** Process commands by name. */
export const processCommands: Record<string, CommandHandler> = {
  ps,
  pidof,
  pgrep,
  kill,
};
