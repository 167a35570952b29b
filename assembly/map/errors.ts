// Configuration error codes (docs/abi.md §1, "Error codes"). The host mirrors
// them in host/config/errors.ts; a test checks both lists agree. Codes are
// append-only: a new code goes at the end here and in both tables.

/** An option or field runs past the end of what encloses it. */
export const ERR_TRUNCATED: i32 = 1;
/** An option's length does not fit its fixed fields. */
export const ERR_OPTION_LENGTH: i32 = 2;
/** An option code that is not expected where it stands. */
export const ERR_UNKNOWN_OPTION: i32 = 3;
/** No S46 container (94/95/96). */
export const ERR_CONTAINER_MISSING: i32 = 4;
/** More than one S46 container. */
export const ERR_CONTAINER_DUPLICATE: i32 = 5;
/** A MAP-E/MAP-T container without S46_RULE, or an lw4o6 container without S46_V4V6BIND. */
export const ERR_RULE_MISSING: i32 = 6;
/** No S46_BR in a MAP-E or lw4o6 container (not required in calc mode). */
export const ERR_BR_MISSING: i32 = 7;
/** A MAP-T container without exactly one S46_DMR. */
export const ERR_DMR_COUNT: i32 = 8;
/** More than one S46_V4V6BIND. */
export const ERR_BIND_COUNT: i32 = 9;
/** An IPv4 prefix length above 32. */
export const ERR_PREFIX4_LENGTH: i32 = 10;
/** An IPv6 prefix length above 128. */
export const ERR_PREFIX6_LENGTH: i32 = 11;
/** ea-len above 48. */
export const ERR_EA_LENGTH: i32 = 12;
/** ea-len − (32 − prefix4-len) gives a PSID longer than 16 bits. */
export const ERR_EA_TOO_LONG_FOR_ADDRESS: i32 = 13;
/** PSID offset + PSID length above 16. */
export const ERR_PSID_TOO_LONG: i32 = 14;
/** S46_PORTPARAMS offset above 15. */
export const ERR_PORTPARAMS_OFFSET: i32 = 15;
/** A MAP CE without an end-user prefix (OPTION_IAPREFIX). */
export const ERR_PREFIX_MISSING: i32 = 16;
/** The end-user prefix lies in no rule's IPv6 prefix. */
export const ERR_PREFIX_OUTSIDE_RULE: i32 = 17;
/** The end-user prefix is shorter than the rule's prefix6-len + ea-len. */
export const ERR_PREFIX_LENGTH: i32 = 18;
/** prefix6-len + ea-len above 64: no room for the interface id. */
export const ERR_PREFIX6_PLUS_EA: i32 = 19;
/** More rules than the rule table holds. */
export const ERR_TOO_MANY_RULES: i32 = 20;
/** More BR addresses than the table holds. */
export const ERR_TOO_MANY_BRS: i32 = 21;
/** A local setting out of its range. */
export const ERR_LOCAL_VALUE: i32 = 22;
/** A MAP-T container outside calc mode. */
export const ERR_MODE_UNSUPPORTED: i32 = 23;
/** S46_PORTPARAMS PSID length disagrees with the rule's EA-derived PSID length. */
export const ERR_PSID_MISMATCH: i32 = 24;
/** S46_PORTPARAMS PSID has bits set beyond its length (it is left-aligned). */
export const ERR_PSID_VALUE: i32 = 25;
/** An end-user prefix (OPTION_IAPREFIX) in BR mode. */
export const ERR_PREFIX_UNEXPECTED: i32 = 26;
/** An option that may appear once appears again (IAPREFIX, MAPE_LOCAL, a local setting, S46_PORTPARAMS). */
export const ERR_OPTION_DUPLICATE: i32 = 27;
/** The length passed to configure() is negative or larger than the buffer. */
export const ERR_CONFIG_LENGTH: i32 = 28;
/** A static forward (LOCAL FORWARD, 28) whose external port is not in the CE's port set. */
export const ERR_FORWARD_PORT: i32 = 29;
