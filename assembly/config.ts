// Capacities of every fixed table, in one place. Memory is fixed (asconfig:
// 128 pages = 8 MiB, initial = maximum), so these bound what fits.

/** Bytes of the static arena all tables are carved from (assembly/arena.ts). */
// 6.0625 MiB: the default tables (256 slots, 65,536 sessions with their
// per-mapping and per-host lists: 1 MiB + 4.91 MiB) take about 5.97 MiB
// with the DNS proxy's buffer and table (dns/proxy.ts dnsBytes, 52 KiB).
// What is left of the 8 MiB memory above the statics is the stub-runtime
// heap (start-up globals; the test framework in unit tests).
export const ARENA_BYTES: i32 = (6 << 20) + (64 << 10);
/** Rules (BMR + FMRs) the rule table holds. */
export const MAX_RULES: i32 = 256;
/** BR addresses (MAP-E DMRs) a configuration may carry. */
export const MAX_BRS: i32 = 8;
/** Bytes of the text buffer (docs/abi.md §1a): argument records with the files they name, rule files, calc output. */
export const TEXT_BUFFER_SIZE: i32 = 256 << 10;
/** Bytes of the configuration buffer (docs/abi.md §1). */
export const CONFIG_BUFFER_SIZE: i32 = 16384;
/** Bytes of one packet slot (docs/abi.md §2). */
export const SLOT_SIZE: i32 = 4096;
/** Bytes kept free in front of each input packet for the outer IPv6 header. */
export const HEADROOM: i32 = 128;
/** Slots when the host does not choose (half input, half spare). */
export const DEFAULT_SLOTS: i32 = 256;
/** NAT sessions when the host does not choose. */
export const DEFAULT_SESSIONS: i32 = 65536;
/** IPv4 fragment flows tracked (first fragment → translation for the rest). */
export const FRAG4_ENTRIES: i32 = 256;
/** IPv4 fragments held while their first fragment has not arrived. */
export const FRAG4_HELD: i32 = 32;
/** Seconds a fragment flow or held fragment lives (RFC 791 suggests 15). */
export const FRAG4_TIMEOUT_MS: i32 = 10000;
/** Of those, the most one source may hold (more evicts its own oldest). */
export const FRAG4_HELD_PER_SOURCE: i32 = 8;
/** Outer IPv6 packets reassembled at once. */
export const REASM6_CONTEXTS: i32 = 16;
/** Of those, the most one source /64 may hold (more evicts its own oldest). */
export const REASM6_PER_SOURCE: i32 = 4;
/** RFC 8200 §4.5: reassembly gives up 60 s after the first fragment. */
export const REASM6_TIMEOUT_MS: i32 = 60000;
/** Destinations whose path MTU an ICMPv6 Packet Too Big lowered. */
export const PMTU_ENTRIES: i32 = 16;
/** RFC 8201 §4: a lowered PMTU may be raised again after 10 minutes. */
export const PMTU_TIMEOUT_MS: i32 = 600000;
/** Largest forward step of the module clock per process() call (docs/abi.md §2, Time). */
export const CLOCK_MAX_STEP_MS: i32 = 10000;
