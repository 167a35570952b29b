// Lab tests of the FTP ALG (assembly/datapath/ftp.ts): active FTP from the
// LAN host against vsftpd in inet, through the CE. curl's `--ftp-port -`
// sends the control connection's local address (the LAN address); the CE
// rewrites it to its own address and a port of its set and lets vsftpd's
// data connection in. Once with PORT (RFC 959, `--disable-eprt`), once with
// EPRT (RFC 2428). The rows check the command curl sent and vsftpd's 200
// answer, so a fallback from EPRT to PORT does not pass as EPRT.

import { INET1 } from "./topology.js";
import type { Ctx, LabTest, Outcome } from "./tests.js";

async function curlActive(ctx: Ctx, eprt: boolean): Promise<Outcome> {
  const args = [
    "-sS", "-v", "--max-time", "15", "--connect-timeout", "4", "--ftp-port", "-",
    ...(eprt ? [] : ["--disable-eprt"]),
    "-o", "/dev/null", "-w", "%{response_code} %{size_download}", `ftp://${INET1}/1m.bin`,
  ];
  const r = await ctx.t.lab.exec(ctx.t.ns.lan, "curl", args, 20_000);
  const [, size] = r.stdout.trim().split(" ");
  const lines = r.stderr.split("\n");
  const cmd = eprt ? "EPRT" : "PORT";
  const sent = lines.some((l) => l.startsWith(`> ${cmd} `));
  const accepted = lines.some((l) => /^< 200 /.test(l) && l.toUpperCase().includes(cmd));
  const ok = r.code === 0 && Number(size) === 1 << 20 && sent && accepted;
  const refusal = lines.filter((l) => /^< [45]\d\d /.test(l)).map((l) => l.slice(2).trim())[0];
  const last = lines.map((l) => l.trim()).filter(Boolean).slice(-1)[0]?.slice(0, 100) ?? "";
  return {
    ok,
    detail: ok ? `${cmd} RETR 1 MiB` : refusal ? `server: ${refusal}` : !sent ? `curl sent no ${cmd}` : last || r.stdout.trim(),
  };
}

export const FTP_TESTS: LabTest[] = [
  { name: "ftp-active", required: true, modes: ["mape"], run: (ctx) => curlActive(ctx, false) },
  { name: "ftp-active-eprt", required: true, modes: ["mape"], run: (ctx) => curlActive(ctx, true) },
];
