// native/tunio.c's TSO read path (the code both hosts share): builds
// tests/host/tunio_tso.c against it and runs it. The C program feeds
// virtio_net_hdr + TCPv4 super-packets through tunio_read_batch and checks
// every segment byte for byte (IPv4 ids, lengths, sequence numbers, flags on
// the right segment, both checksums, the short last segment), the room rule
// of a batch, partial checksums finished, and the counted drops of what
// cannot be cut. Needs gcc (scripts/setup.sh has it); no privileges.
//
// And tests/host/tunio_uring.c: the batched reads through io_uring (each
// read straight into its slot, rounds of up to 64 in one system call),
// byte for byte against what was sent and against the readv path, through
// a socketpair (no privileges) and through a real TUN in a network
// namespace of the program's own (root).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../e2e/files.js";
import { skipUnlessCI } from "./prereq.js";

const gcc = spawnSync("gcc", ["--version"]).status === 0;
const linux = process.platform === "linux";

test("tunio TSO: super-packets are cut into the kernel's segments, byte for byte", { skip: skipUnlessCI(!linux ? "Linux only" : gcc ? undefined : "gcc is not installed") }, () => {
  const work = mkdtempSync(join(tmpdir(), "mape-tunio-"));
  try {
    const bin = join(work, "tunio_tso");
    const root = repoRoot();
    const cc = spawnSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-o", bin, join(root, "tests", "host", "tunio_tso.c"), join(root, "native", "tunio.c")], { encoding: "utf8" });
    assert.equal(cc.status, 0, `gcc: ${cc.stderr}`);
    const r = spawnSync(bin, [], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, `tunio_tso: ${r.stderr}${r.stdout}`);
    assert.match(r.stdout, /^ok \d+/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

function buildAndRun(source: string, args: string[]): void {
  const work = mkdtempSync(join(tmpdir(), "mape-tunio-"));
  try {
    const bin = join(work, "t");
    const root = repoRoot();
    const cc = spawnSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-o", bin, join(root, "tests", "host", source), join(root, "native", "tunio.c")], { encoding: "utf8" });
    assert.equal(cc.status, 0, `gcc: ${cc.stderr}`);
    const r = spawnSync(bin, args, { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, `${source} ${args.join(" ")}: ${r.signal ? `killed by ${r.signal} (a read left in flight blocks) ` : ""}${r.stderr}${r.stdout}`);
    assert.match(r.stdout, /^ok \d+/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

test("tunio io_uring reads: rounds of reads into the slots, byte for byte, through a socketpair", { skip: skipUnlessCI(!linux ? "Linux only" : gcc ? undefined : "gcc is not installed") }, () => {
  buildAndRun("tunio_uring.c", []);
});

const root = typeof process.getuid === "function" && process.getuid() === 0;
test("tunio io_uring reads: a real TUN (IFF_VNET_HDR) in a namespace of its own, every datagram in order", { skip: skipUnlessCI(!linux ? "Linux only" : !gcc ? "gcc is not installed" : root ? undefined : "needs root (a TUN and a network namespace)") }, () => {
  buildAndRun("tunio_uring.c", ["tun"]);
});
