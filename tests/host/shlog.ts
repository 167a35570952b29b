// The shell doubles' recorder, shared by the OpenWrt handler tests and the
// HB46PP fetcher tests: `mape_test_log name args…` appends one line
// "name [arg] [arg]…" to $MAPE_TEST_LOG.
//
// The line is built first and written with ONE printf: the doubles run
// concurrently (the fetcher's sleep beside the CE it started), and a
// recorder that wrote each argument separately let their lines interleave
// mid-line under load (a "mape ce …" record split by a "sleep …" one).
export const LOG_FN = `mape_test_log() { local mape_test_line; mape_test_line=$(printf '%s' "$1"; shift; for a in "$@"; do printf ' [%s]' "$a"; done); printf '%s\\n' "$mape_test_line" >> "$MAPE_TEST_LOG"; }`;
