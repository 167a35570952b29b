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

mape_odhcp6c_hook() {
	local state="$1" type rule prefix prefsig="" zone
	case "$state" in
		bound | informed | updated | rebound) ;;
		ra-updated) [ -n "$ADDRESSES$RA_ADDRESSES$PREFIXES$USERPREFIX" ] || return 0 ;;
		*) return 0 ;;
	esac
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
	for prefix in $PREFIXES; do
		prefsig="$prefsig ${prefix%%,*}"
	done
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
