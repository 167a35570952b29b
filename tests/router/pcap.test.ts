// The whole e2e pcap suite (tests/e2e/cases, byte-compared, with counters;
// the comparison is tests/e2e/suite.ts, the one the Node host passes)
// through `mape pcap` of the router program of every target: x86_64
// natively, mipsel, mips (big-endian) and aarch64 under qemu-user-static.
import { join } from "node:path";
import { e2eSuite } from "../e2e/suite.js";
import { skipUnlessCI } from "../host/prereq.js";
import { TARGETS, command, missing } from "./router.js";

for (const t of TARGETS) {
  e2eSuite({
    label: `router ${t.name}`,
    missing: skipUnlessCI(missing(t)),
    // The outputs are compared byte for byte with expected.pcap (the flow
    // label and fragment ID aside), whose packets tshark checks in the Node
    // host's run (tests/e2e/e2e.test.ts): not again per target.
    tshark: false,
    command: (d) => [...command(t), "pcap", "--config", join(d, "config.json")],
  });
}
