/** Who and what the phone is, as a shell sees it: id, whoami, uname, getenforce, env, which, log. */
import type { CommandHandler } from './command.js';

const SHELL_ID =
  'uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),1078(ext_data_rw),1079(ext_obb_rw),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid),3012(readtracefs) context=u:r:shell:s0';

const ROOT_ID =
  'uid=0(root) gid=0(root) groups=0(root),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid) context=u:r:magisk:s0';

const id: CommandHandler = async (c) => {
  if (c.args.includes('-u')) await c.out(`${c.uid}\n`);
  else if (c.args.includes('-un')) await c.out(`${c.uid === 0 ? 'root' : 'shell'}\n`);
  else await c.out(`${c.uid === 0 ? ROOT_ID : SHELL_ID}\n`);
  return 0;
};

const whoami: CommandHandler = async (c) => {
  await c.out(`${c.uid === 0 ? 'root' : 'shell'}\n`);
  return 0;
};

const uname: CommandHandler = async (c) => {
  const release = c.phone.state.system.props.get('ro.kernel.version')
    ? `${c.phone.state.system.props.get('ro.kernel.version')}.275-perf-g1a2b3c4`
    : '5.10.198-android13-4-g5c1d2e3';
  if (c.args.includes('-a'))
    await c.out(`Linux localhost ${release} #1 SMP PREEMPT Thu May 16 10:00:00 UTC 2024 aarch64 Toybox\n`);
  else if (c.args.includes('-r')) await c.out(`${release}\n`);
  else if (c.args.includes('-m')) await c.out('aarch64\n');
  else await c.out('Linux\n');
  return 0;
};

const getenforce: CommandHandler = async (c) => {
  await c.out('Enforcing\n');
  return 0;
};

const env: CommandHandler = async (c) => {
  if (c.args.length > 0) return c.run(c.args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '));
  await c.out(
    Object.entries(c.env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  return 0;
};

const which: CommandHandler = async (c) => {
  let failed = false;
  for (const a of c.args) {
    if (c.phone.commandNames?.has(a)) await c.out(`/system/bin/${a}\n`);
    else failed = true;
  }
  return failed ? 1 : 0;
};

const log: CommandHandler = async (c) => {
  let tag = 'log';
  let pr = 4;
  const words: string[] = [];
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i]!;
    if (a === '-t') tag = c.args[++i] ?? tag;
    else if (a === '-p') pr = ' _vdiwef'.indexOf((c.args[++i] ?? 'i').toLowerCase()[0] ?? 'i');
    else words.push(a);
  }
  c.phone.state.logLine(pr >= 2 ? pr : 4, tag, words.join(' '), 20_000, 20_000);
  return 0;
};

/** Information commands by name. */
export const infoCommands: Record<string, CommandHandler> = {
  id,
  whoami,
  uname,
  getenforce,
  env,
  printenv: env,
  which,
  log,
};
