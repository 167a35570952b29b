#!/bin/sh
# shellcheck shell=dash
# The DHCPv6 path of `proto mape`: sourced from /etc/odhcp6c.user, which
# OpenWrt's dhcpv6.script sources at its end with odhcp6c's environment ($2
# the state, $INTERFACE the dhcpv6 interface, $MAPE / $LW4O6 the rule strings
# odhcp6c made of the S46 container, $PREFIXES the delegated prefixes).
#
# dhcpv6.script hands such a rule to a dynamic `proto map` interface only
# when the map package is installed; this hands it to a dynamic `proto mape`
# interface named <interface>_4 the same way (rule, tunlink, zone, and the
# prefixes as _prefsig, so that a new delegated prefix restarts the CE with
# its new MAP address). The rule string goes to the handler untouched.

# `proto mape` with option auto (HB46PP) on this uplink: a new delegated
# prefix goes to its fetcher (hb46pp.sh), which fetches the rules again
# (v6mig-prov §3.6 k): the prefixes in $MAPE_RUN_DIR/prefixes.<interface>,
# then SIGUSR1 to each fetcher registered for the interface.
mape_prefixes_changed() {
	local iface="$1" prefixes="$2" run="${MAPE_RUN_DIR:-/var/run/mape}" old="" pid f
	[ -n "$iface" ] || return 0
	old="$(cat "$run/prefixes.$iface" 2>/dev/null)"
	[ "$old" = "$prefixes" ] && return 0
	mkdir -p "$run" && echo "$prefixes" >"$run/prefixes.$iface" || return 0
	for f in "$run/hb46pp.$iface."*.pid; do
		[ -f "$f" ] || continue
		pid="$(cat "$f")"
		case "$pid" in "" | *[!0-9]*) continue ;; esac
		kill -USR1 "$pid" 2>/dev/null
	done
	return 0
}

mape_odhcp6c_hook() {
	local state="$1" type rule prefix prefsig="" zone
	case "$state" in
		bound | informed | updated | rebound) ;;
		ra-updated) [ -n "$ADDRESSES$RA_ADDRESSES$PREFIXES$USERPREFIX" ] || return 0 ;;
		*) return 0 ;;
	esac
	for prefix in $PREFIXES; do
		prefsig="$prefsig ${prefix%%,*}"
	done
	mape_prefixes_changed "$INTERFACE" "${prefsig# }"
	if [ -n "$MAPE" ]; then
		type=map-e
		rule="$MAPE"
	elif [ -n "$LW4O6" ]; then
		type=lw4o6
		rule="$LW4O6"
	else
		return 0
	fi
	if [ -f /lib/netifd/proto/map.sh ] && [ "$IFACE_MAP" != 0 ]; then
		echo "mape: $INTERFACE: the map package's proto map took this rule; set option iface_map '0' on $INTERFACE to run it with mape" >&2
		return 0
	fi
	zone="${ZONE_MAP:-$ZONE}"

	json_init
	json_add_string name "${INTERFACE}_4"
	json_add_string ifname "@$INTERFACE"
	json_add_string proto mape
	json_add_string type "$type"
	json_add_string _prefsig "$prefsig"
	json_add_string rule "$rule"
	json_add_string tunlink "$INTERFACE"
	[ -n "$zone" ] && json_add_string zone "$zone"
	json_close_object
	ubus call network add_dynamic "$(json_dump)"
}

mape_odhcp6c_hook "$2"
