// The packet header layer: one file per header, free functions over raw
// pointers, no allocation. Import from here or from the single file.
//
// Every `…Check` returns 0 or a reason code; the codes are distinct across
// the layer (blocks of 16 per header) so the data path can map each to one
// named drop counter:
//   IPv4   1–15   IPV4_TOO_SHORT 1, IPV4_BAD_VERSION 2, IPV4_BAD_IHL 3,
//                 IPV4_BAD_TOTAL_LENGTH 4, IPV4_BAD_CHECKSUM 5
//   IPv6  17–31   IPV6_TOO_SHORT 17, IPV6_BAD_VERSION 18,
//                 IPV6_BAD_PAYLOAD_LENGTH 19, IPV6_EXT_TRUNCATED 20,
//                 IPV6_EXT_TOO_MANY 21, IPV6_EXT_HOP_BY_HOP_NOT_FIRST 22,
//                 IPV6_EXT_FRAGMENT_TWICE 23
//   UDP   33–47   UDP_TOO_SHORT 33, UDP_BAD_LENGTH 34
//   TCP   49–63   TCP_TOO_SHORT 49, TCP_BAD_DATA_OFFSET 50
//   ICMPv4 65–79  ICMP4_TOO_SHORT 65, ICMP4_BAD_CHECKSUM 66
//   ICMPv6 81–95  ICMP6_TOO_SHORT 81, ICMP6_BAD_CHECKSUM 82
//   GRE   97–111  GRE_TOO_SHORT 97, GRE_BAD_VERSION 98, GRE_BAD_HEADER 99
//   PPTP 113–127  PPTP_TRUNCATED 113, PPTP_BAD_MESSAGE 114
// WIRE_REASON_LIMIT bounds them all (a counter array of that size).
export * from "./checksum";
export * from "./ipv4";
export * from "./ipv6";
export * from "./udp";
export * from "./tcp";
export * from "./icmp4";
export * from "./icmp6";
export * from "./gre";
export * from "./pptp";

export const WIRE_REASON_LIMIT: i32 = 128;
