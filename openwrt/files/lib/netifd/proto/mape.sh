#!/bin/sh
# OpenWrt's /bin/sh is busybox ash: POSIX plus `local`, which dash has too.
# shellcheck shell=dash
# netifd protocol handler 'mape': a MAP-E (RFC 7597) or lw4o6 (RFC 7596)
# customer edge run by the `mape` program on a TUN.
#
# It takes the options of OpenWrt's own `map` protocol, so a `map` interface
# becomes a `mape` one by changing its proto:
#   maptype (or type), rule, ipaddr, ip4prefixlen, ip6prefix, ip6prefixlen,
#   peeraddr, ealen, psidlen, psid, offset, legacymap, mtu, ttl, tunlink, zone
# plus the CE's local settings:
#   prefix (the end-user prefix, instead of the tunlink's delegated one),
#   filtering, mss_clamp, tc_from_tos, udp_timeout, dns_timeout,
#   tcp_established_timeout, tcp_transitory_timeout, icmp_timeout
# and the rule files (JPNE v6plus, OCN, HB46PP JSON: `mape ce --rules`):
#   rules_file, rules_format (a file the user keeps), or
#   auto 1 (HB46PP, v6mig-prov: the rules fetched from the line's
#   provisioning server by /usr/share/mape/hb46pp.sh, which then runs the
#   CE), with hb46pp_domain, dns (resolvers; default the tunlink's), ca,
#   insecure, vendorid, and rules_file (where the last good rules are kept,
#   default /etc/mape/<interface>.rules.json)
#
# This script maps options to `mape` flags and nothing more: the program
# parses the rule, checks it and computes the CE's IPv4 address and MAP IPv6
# address (`mape calc --format mapcalc`, the lines of OpenWrt's mapcalc), and
# the data path runs as netifd's proto task (`mape ce … --tun mape-<cfg>`),
# which netifd stops with SIGTERM on teardown.
#
# Routes and firewall data go to netifd as map.sh sends them: the IPv4
# default route and the MAP address /128 into the TUN (the MAP address is
# routed to the TUN, never assigned: the CE terminates the tunnel in user
# space), the firewall zone, a nat rule that keeps fw4 from masquerading
# into the TUN (the CE does the NAPT44 into its port set itself), and rules
# that let IPv6 to and from the MAP address be forwarded between the zone's
# devices (the tunlink's uplink and the TUN).

[ -n "$INCLUDE_ONLY" ] || {
	# shellcheck source=/dev/null
	. /lib/functions.sh
	# shellcheck source=/dev/null
	. /lib/functions/network.sh
	# shellcheck source=/dev/null
	. ../netifd-proto.sh
	init_proto "$@"
}

# How long setup waits for `mape ce` to create its TUN before netifd gets
# the routes (netifd can only route into a device that exists).
MAPE_TUN_WAIT_SECONDS=10

# One line on stderr (netifd logs a handler's output), then netifd's error
# code for the interface; a configuration error also blocks the restart
# loop, as map.sh does: the same options would fail the same way again.
mape_fail() {
	local cfg="$1" code="$2" block="$3" message="$4"
	[ -n "$message" ] && echo "mape: $cfg: $message" >&2
	proto_notify_error "$cfg" "$code"
	[ "$block" = 1 ] && proto_block_restart "$cfg"
	return 0
}

# A value that goes into a rule string must not carry the string's own
# separators (',' between keys, '=' inside them, white space between rules).
mape_rule_value_ok() {
	case "$1" in
		*,* | *=* | *[[:space:]]*) return 1 ;;
	esac
	return 0
}

# Appends ",<key>=<value>" to the caller's rule string when the option
# (named for the message) is set; refuses a value that would split the string.
mape_rule_put() {
	[ -n "$3" ] || return 0
	if ! mape_rule_value_ok "$3"; then
		echo "mape: $cfg: option $2: '$3' contains ',', '=' or white space" >&2
		return 1
	fi
	rule="$rule,$1=$3"
}

# UCI's booleans, as netifd and uci(5) spell them; anything else is an error.
mape_bool() {
	case "$1" in
		1 | yes | on | true | enabled) echo 1 ;;
		0 | no | off | false | disabled) echo 0 ;;
		*) return 1 ;;
	esac
}

proto_mape_setup() {
	local cfg="$1"
	local tun="mape-$cfg"

	local maptype type rule ipaddr ip4prefixlen ip6prefix ip6prefixlen peeraddr
	local ealen psidlen psid offset legacymap mtu ttl tunlink zone prefix
	local filtering mss_clamp tc_from_tos udp_timeout dns_timeout
	local tcp_established_timeout tcp_transitory_timeout icmp_timeout
	json_get_vars maptype type rule ipaddr ip4prefixlen ip6prefix ip6prefixlen peeraddr
	json_get_vars ealen psidlen psid offset legacymap mtu ttl tunlink zone prefix
	json_get_vars filtering mss_clamp tc_from_tos udp_timeout dns_timeout
	json_get_vars tcp_established_timeout tcp_transitory_timeout icmp_timeout
	local auto rules_file rules_format hb46pp_domain dns ca insecure vendorid
	json_get_vars auto rules_file rules_format hb46pp_domain dns ca insecure vendorid

	# Newer map.sh reads `maptype`, older ones and dhcpv6.script `type`.
	[ -n "$maptype" ] || maptype="$type"
	[ "$zone" = "-" ] && zone=""

	case "$maptype" in
		"" | map-e | lw4o6) ;;
		map-t)
			mape_fail "$cfg" UNSUPPORTED_TYPE 1 "maptype map-t: the mape CE tunnels (map-e, lw4o6); MAP-T is the map package's"
			return 1
			;;
		*)
			mape_fail "$cfg" UNSUPPORTED_TYPE 1 "maptype '$maptype' is not map-e or lw4o6"
			return 1
			;;
	esac

	if [ "${#tun}" -gt 15 ]; then
		mape_fail "$cfg" INVALID_INTERFACE_NAME 1 "the TUN name '$tun' is longer than 15 characters: use a shorter interface name"
		return 1
	fi

	# ---- the rule: `option rule` (dhcpv6.script's, as odhcp6c exported it), or
	# map.sh's rule string built from the separate options. The program's
	# flags collect in the positional parameters (values keep their spaces). ----
	case "$(mape_bool "${auto:-0}")" in
		1) auto=1 ;;
		0) auto=0 ;;
		*)
			mape_fail "$cfg" INVALID_MAP_RULE 1 "option auto: '$auto' is not a boolean (0/1)"
			return 1
			;;
	esac
	if [ "$auto" = 1 ]; then
		# HB46PP: no rule here; hb46pp.sh fetches them into rules_file.
		set --
		[ -n "$rules_file" ] || rules_file="/etc/mape/$cfg.rules.json"
	elif [ -n "$rules_file" ]; then
		set -- --rules "$rules_file"
		[ -n "$rules_format" ] && set -- "$@" --rules-format "$rules_format"
	elif [ -n "$rule" ]; then
		set -- --dhcpv6 "$rule"
		[ -n "$maptype" ] && set -- "$@" --dhcpv6-type "$maptype"
	else
		rule="type=${maptype:-map-e}"
		if ! mape_rule_put ipv6prefix ip6prefix "$ip6prefix" ||
			! mape_rule_put prefix6len ip6prefixlen "$ip6prefixlen" ||
			! mape_rule_put ipv4prefix ipaddr "$ipaddr" ||
			! mape_rule_put prefix4len ip4prefixlen "$ip4prefixlen" ||
			! mape_rule_put psid psid "$psid" ||
			! mape_rule_put psidlen psidlen "$psidlen" ||
			! mape_rule_put offset offset "$offset" ||
			! mape_rule_put ealen ealen "$ealen" ||
			! mape_rule_put br peeraddr "$peeraddr"; then
			mape_fail "$cfg" INVALID_MAP_RULE 1 ""
			return 1
		fi
		set -- --dhcpv6 "$rule"
	fi

	if [ -n "$legacymap" ] && [ "$auto" != 1 ]; then
		case "$(mape_bool "$legacymap")" in
			1) set -- "$@" --legacy-iid ;;
			0) ;;
			*)
				mape_fail "$cfg" INVALID_MAP_RULE 1 "option legacymap: '$legacymap' is not a boolean (0/1)"
				return 1
				;;
		esac
	fi

	# ---- the end-user prefix: `option prefix`, else the delegated prefixes of
	# the tunlink (mapcalc's PD), else of the interface holding the IPv6
	# default route. The program picks: the first one it accepts for the rule
	# is this CE's (mapcalc takes the first PD inside the rule's IPv6 prefix). ----
	( proto_add_host_dependency "$cfg" "::" "$tunlink" )

	local candidates="$prefix"
	if [ -z "$candidates" ]; then
		[ -n "$tunlink" ] || network_find_wan6 tunlink
		[ -n "$tunlink" ] && network_get_prefixes6 candidates "$tunlink"
	fi
	if [ -z "$candidates" ]; then
		mape_fail "$cfg" NO_MATCHING_PD 1 "no end-user prefix: no delegated IPv6 prefix on '${tunlink:-the IPv6 uplink}' (set option tunlink, or option prefix)"
		return 1
	fi

	# Each candidate's error is kept, and printed only when none fits.
	local candidate calc="" enduser="" errors=""
	local prefixes="$candidates"
	[ "$auto" = 1 ] && candidates=""
	for candidate in $candidates; do
		if calc="$(mape calc --format mapcalc "$@" --prefix "$candidate" 2>&1)"; then
			enduser="$candidate"
			break
		fi
		errors="${errors}mape: $cfg: end-user prefix $candidate: ${calc#mape: }
"
	done
	if [ -z "$enduser" ] && [ "$auto" != 1 ]; then
		printf '%s' "$errors" >&2
		mape_fail "$cfg" INVALID_MAP_RULE 1 ""
		return 1
	fi

	# The BMR's addresses, from mapcalc's KEY=value lines (read, never eval'd).
	local k v bmr="" addr4="" addr6="" br=""
	while IFS='=' read -r k v; do
		[ "$k" = RULE_BMR ] && bmr="$v"
	done <<EOF
$calc
EOF
	while IFS='=' read -r k v; do
		case "$k" in
			"RULE_${bmr}_IPV4ADDR") addr4="$v" ;;
			"RULE_${bmr}_IPV6ADDR") addr6="$v" ;;
			"RULE_${bmr}_BR") br="$v" ;;
		esac
	done <<EOF
$calc
EOF
	if [ "$auto" != 1 ] && { [ -z "$bmr" ] || [ -z "$addr6" ]; }; then
		mape_fail "$cfg" NO_MATCHING_PD 1 "mape calc found no rule for the end-user prefix $enduser"
		return 1
	fi
	# `mape calc` does not need a BR, a CE does: say so now, not when it starts.
	if [ -z "$br" ] && [ "$auto" != 1 ]; then
		mape_fail "$cfg" INVALID_MAP_RULE 1 "no BR address (option peeraddr, or br= in option rule)"
		return 1
	fi

	[ "$auto" = 1 ] || set -- "$@" --prefix "$enduser" --tun "$tun"

	# map.sh's mtu is the tunnel interface's IPv4 MTU [1280]; the program's
	# --tunnel-mtu is the IPv6 path MTU of the tunnel: 40 bytes more.
	case "${mtu:-1280}" in
		*[!0-9]* | "")
			mape_fail "$cfg" INVALID_MAP_RULE 1 "option mtu: '$mtu' is not an integer"
			return 1
			;;
	esac
	set -- "$@" --tunnel-mtu "$((${mtu:-1280} + 40))"
	[ -n "$ttl" ] && set -- "$@" --hop-limit "$ttl"
	[ -n "$filtering" ] && set -- "$@" --filtering "$filtering"
	[ -n "$mss_clamp" ] && set -- "$@" --mss-clamp "$mss_clamp"
	if [ -n "$tc_from_tos" ]; then
		case "$(mape_bool "$tc_from_tos")" in
			1) set -- "$@" --tc-from-tos on ;;
			0) set -- "$@" --tc-from-tos off ;;
			*)
				mape_fail "$cfg" INVALID_MAP_RULE 1 "option tc_from_tos: '$tc_from_tos' is not a boolean (0/1)"
				return 1
				;;
		esac
	fi
	[ -n "$udp_timeout" ] && set -- "$@" --udp-timeout "$udp_timeout"
	[ -n "$dns_timeout" ] && set -- "$@" --dns-timeout "$dns_timeout"
	[ -n "$tcp_established_timeout" ] && set -- "$@" --tcp-established-timeout "$tcp_established_timeout"
	[ -n "$tcp_transitory_timeout" ] && set -- "$@" --tcp-transitory-timeout "$tcp_transitory_timeout"
	[ -n "$icmp_timeout" ] && set -- "$@" --icmp-timeout "$icmp_timeout"

	if [ "$auto" = 1 ]; then
		[ -n "$dns" ] || network_get_dnsserver dns "$tunlink"
		[ -n "$zone" ] || zone="$(fw4 -q network "$cfg" 2>/dev/null)"
		if [ -n "$ca" ] && [ "$(mape_bool "${insecure:-0}")" = 1 ]; then
			mape_fail "$cfg" INVALID_MAP_RULE 1 "options ca and insecure: give one (insecure checks no certificate at all)"
			return 1
		fi
		[ -n "$hb46pp_domain" ] && proto_export "MAPE_HB46PP_DOMAIN=$hb46pp_domain"
		[ -n "$dns" ] && proto_export "MAPE_HB46PP_DNS=$dns"
		[ -n "$ca" ] && proto_export "MAPE_HB46PP_CA=$ca"
		[ "$(mape_bool "${insecure:-0}")" = 1 ] && proto_export "MAPE_HB46PP_INSECURE=1"
		[ -n "$vendorid" ] && proto_export "MAPE_HB46PP_VENDORID=$vendorid"
		[ -n "$tunlink" ] && proto_export "MAPE_HB46PP_TUNLINK=$tunlink"
		echo "mape: $cfg: HB46PP provisioning (rules kept in $rules_file), end-user prefix from $prefixes, TUN $tun" >&2
		# The fetcher runs the CE and sends netifd the update once it has rules.
		proto_run_command "$cfg" /usr/share/mape/hb46pp.sh run "$cfg" "$tun" "$rules_file" "$prefixes" "$zone" -- "$@"
		return 0
	fi

	echo "mape: $cfg: IPv4 $addr4, MAP address $addr6, BR $br, end-user prefix $enduser, TUN $tun" >&2
	proto_run_command "$cfg" mape ce "$@"

	# netifd routes into a device only once it exists: wait for the CE's TUN.
	local waited=0
	while [ ! -e "/sys/class/net/$tun" ]; do
		if [ "$waited" -ge "$MAPE_TUN_WAIT_SECONDS" ]; then
			mape_fail "$cfg" TUN_NOT_CREATED 0 "mape ce did not create $tun within $MAPE_TUN_WAIT_SECONDS s (its error is in the log above)"
			proto_kill_command "$cfg"
			return 1
		fi
		sleep 1
		waited=$((waited + 1))
	done

	[ -n "$zone" ] || zone="$(fw4 -q network "$cfg" 2>/dev/null)"
	mape_send_update "$cfg" "$tun" "$zone" "$addr4" "$addr6" "$br"
}

# The netifd update of a running CE: its TUN, the routes into it, the
# firewall data (also sent by hb46pp.sh when the rules come or change).
mape_send_update() {
	local cfg="$1" tun="$2" zone="$3" addr4="$4" addr6="$5" br="$6"
	proto_init_update "$tun" 1
	proto_add_ipv4_route "0.0.0.0" 0
	proto_add_ipv6_route "$addr6" 128
	proto_add_data
	[ -n "$zone" ] && json_add_string zone "$zone"
	json_add_string ipv4_address "$addr4"
	json_add_string map_address "$addr6"
	json_add_string br "$br"
	json_add_array firewall
		json_add_object ""
			json_add_string type nat
			json_add_string family inet
			json_add_string target ACCEPT
		json_close_object
		if [ -n "$zone" ]; then
			json_add_object ""
				json_add_string type rule
				json_add_string family inet6
				json_add_string proto all
				json_add_string direction out
				json_add_string src "$zone"
				json_add_string dest "$zone"
				json_add_string dest_ip "$addr6"
				json_add_string target ACCEPT
			json_close_object
			json_add_object ""
				json_add_string type rule
				json_add_string family inet6
				json_add_string proto all
				json_add_string direction in
				json_add_string src "$zone"
				json_add_string dest "$zone"
				json_add_string src_ip "$addr6"
				json_add_string target ACCEPT
			json_close_object
		fi
	json_close_array
	proto_close_data
	proto_send_update "$cfg"
}

proto_mape_teardown() {
	local cfg="$1"
	proto_kill_command "$cfg"
}

proto_mape_init_config() {
	# Read by netifd-proto.sh's `dump`: no device of its own (the TUN comes
	# with the update), available without waiting for a link.
	# shellcheck disable=SC2034
	no_device=1
	# shellcheck disable=SC2034
	available=1

	# Strings, all of them: the program checks every value and names the
	# option in its error, instead of netifd dropping a value that is not an
	# integer without a word.
	local opt
	for opt in maptype type rule ipaddr ip4prefixlen ip6prefix ip6prefixlen peeraddr \
		ealen psidlen psid offset legacymap mtu ttl tunlink zone prefix \
		filtering mss_clamp tc_from_tos udp_timeout dns_timeout \
		tcp_established_timeout tcp_transitory_timeout icmp_timeout \
		auto rules_file rules_format hb46pp_domain dns ca insecure vendorid; do
		proto_config_add_string "$opt"
	done
}

[ -n "$INCLUDE_ONLY" ] || {
	add_protocol mape
}
