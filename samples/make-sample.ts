// Makes samples/janog.pcap, the capture `mape lab` replays through `mape pcap`
// where it cannot build its namespaces (not root, no netns): one CE under the
// built-in JANOG rule (203.86.225.1, PSID 0x234, MAP address
// 2403:9200:1234::cb56:e101:234, BR 2403:9200:fff0::2):
//   1. LAN  192.168.1.2:4660 -> 198.51.100.1:53   DNS query www.lab.example A
//   2. WAN  BR -> CE, IPv4-in-IPv6: the DNS answer to 203.86.225.1:4660
//   3. LAN  ping 192.168.1.2 -> 198.51.100.1, echo id 8756
//   4. WAN  BR -> CE, IPv4-in-IPv6: the echo reply to 203.86.225.1 id 8756
// (4660 and 8756 are in the CE's port set, so the NAT keeps them.)
//
// Built with the test builders (tests/host/packets.ts). samples/ is not in
// tsconfig's include, so run it as:
//   npx tsc --outDir /tmp/mk --rootDir . --module NodeNext --moduleResolution NodeNext \
//     --target ES2022 --types node --skipLibCheck samples/make-sample.ts
//   node /tmp/mk/samples/make-sample.js samples/janog.pcap

import { concat, icmp4Echo, ipip6, udp4 } from "../tests/host/packets.js";
import { writePcapFile } from "../host/pcap.js";

const LAN = "192.168.1.2";
const SERVER = "198.51.100.1";
const CE4 = "203.86.225.1";
const CE6 = "2403:9200:1234::cb56:e101:234";
const BR = "2403:9200:fff0::2";

/** A DNS message: id, flags, one question (and one A answer when `answer`). */
function dns(id: number, name: string, answer?: string): Uint8Array {
  const labels = concat(...name.split(".").map((l) => concat(Uint8Array.of(l.length), new TextEncoder().encode(l))), Uint8Array.of(0));
  const header = Uint8Array.of(id >> 8, id & 0xff, answer ? 0x81 : 0x01, answer ? 0x80 : 0x00, 0, 1, 0, answer ? 1 : 0, 0, 0, 0, 0);
  const question = concat(labels, Uint8Array.of(0, 1, 0, 1));
  if (!answer) return concat(header, question);
  const rr = concat(Uint8Array.of(0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4), Uint8Array.from(answer.split(".").map(Number)));
  return concat(header, question, rr);
}

const t0 = Date.UTC(2024, 0, 1) ;
const records = [
  { timestampMs: t0, data: udp4({ src: LAN, dst: SERVER, srcPort: 4660, dstPort: 53, id: 1, payload: dns(0x4d41, "www.lab.example") }) },
  {
    timestampMs: t0 + 2,
    data: ipip6({ src: BR, dst: CE6, hopLimit: 63, inner: udp4({ src: SERVER, dst: CE4, srcPort: 53, dstPort: 4660, ttl: 63, id: 2, payload: dns(0x4d41, "www.lab.example", "198.51.100.2") }) }),
  },
  { timestampMs: t0 + 100, data: icmp4Echo({ src: LAN, dst: SERVER, id: 8756, seq: 1, payload: new TextEncoder().encode("mape lab sample!"), df: true }) },
  {
    timestampMs: t0 + 101,
    data: ipip6({ src: BR, dst: CE6, hopLimit: 63, inner: icmp4Echo({ src: SERVER, dst: CE4, id: 8756, seq: 1, reply: true, ttl: 63, payload: new TextEncoder().encode("mape lab sample!") }) }),
  },
];

writePcapFile(process.argv[2] ?? "samples/janog.pcap", records);
