#!/bin/sh
# shellcheck shell=dash
# HB46PP (v6mig-prov v1.0) on OpenWrt: `proto mape` with `option auto 1`
# runs this as its netifd proto task:
#
#   hb46pp.sh run <cfg> <tun> <rules file> <prefixes> <zone> -- <mape ce flags>
#
# It finds the provisioning server (`mape hb46pp discover`: the TXT query
# over UDP to the line's resolver; OpenWrt has no dig, and busybox nslookup
# neither always does TXT nor tells NXDOMAIN from a timeout), fetches the
# rules with OpenWrt's own uclient-fetch over HTTPS (its TLS, the CA given
# with option ca, or none checked with option insecure or t=a), checks them
# with the module (`mape calc --rules`), keeps the last good ones in the
# rules file (written atomically, used at the next start until a fetch
# succeeds), and runs `mape ce --rules <file>` as its child:
#
#   new rules, BMR unchanged  → SIGHUP: the CE reloads, its sessions kept
#   new rules, BMR changed    → SIGHUP (the CE resets its sessions and says
#                               so) and a new netifd update (MAP address)
#   NXDOMAIN / NODATA         → MAP-E off: the CE is stopped (§3.6 c.2)
#   then it waits as the module says (`mape hb46pp delay`, the timers the
#   Node host uses): ttl; NXDOMAIN 1–3 h; other DNS failure 1–10 min; no
#   HTTP answer 10–30 min; refused or bad answer 10–30 min.
#
# A new delegated prefix (§3.6 k): the odhcp6c hook writes the tunlink's
# prefixes to $MAPE_RUN_DIR/prefixes.<tunlink> and sends SIGUSR1 to the
# fetchers registered for that tunlink ($MAPE_RUN_DIR/hb46pp.<tunlink>.<cfg>.pid);
# this one then stops the CE (its MAP address goes with the prefix), fetches
# at once and starts the CE on the new prefix.
# What it did last is in <rules file>.status (JSON), which `mape stats`
# shows as "provisioning". netifd stops the task with SIGTERM: the CE is
# stopped with it.
#
# Settings (environment, from the handler's options): MAPE_HB46PP_DOMAIN,
# MAPE_HB46PP_DNS (resolvers, space-separated), MAPE_HB46PP_CA (a PEM file),
# MAPE_HB46PP_INSECURE=1, MAPE_HB46PP_VENDORID, MAPE_HB46PP_TUNLINK (the
# uplink whose prefixes it watches); MAPE_RUN_DIR (default /var/run/mape).

MAPE_HB46PP_PRODUCT="mape-wasm"
MAPE_HB46PP_VERSION="0_1_0"
MAPE_HB46PP_CAPABILITY="map_e,hubspoke,mesh"
# uclient-fetch's -T: seconds without an answer before it gives up.
MAPE_HB46PP_FETCH_TIMEOUT=15

hb46pp_log() {
	echo "mape: $hb_cfg: provisioning: $*" >&2
}

# The words of $1 with single spaces (prefix lists compare as lists).
hb46pp_words() {
	# shellcheck disable=SC2086 # split on purpose
	set -- $1
	echo "$*"
}

# Whether two files hold the same bytes (cmp is not in every busybox build; md5sum is, sysupgrade uses it).
hb46pp_same() {
	if command -v cmp >/dev/null 2>&1; then
		cmp -s "$1" "$2"
	else
		[ "$(md5sum <"$1")" = "$(md5sum <"$2")" ]
	fi
}

hb46pp_now_iso() {
	date -u +%Y-%m-%dT%H:%M:%SZ
}

# A JSON string of $1 (quotes and backslashes escaped; control characters dropped).
hb46pp_json_str() {
	printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

# Writes <rules file>.status: what the last attempt found, and when the next one is.
hb46pp_status() {
	local state="$1" delay="$2" now next tmp
	now=$(date +%s)
	next=$(date -u -d "@$((now + delay))" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
	tmp="$hb_rules.status.tmp"
	{
		printf '{"state":%s,"attempts":%s,"lastAttemptAt":%s' "$(hb46pp_json_str "$state")" "$hb_attempts" "$(hb46pp_json_str "$hb_attempt_at")"
		[ -n "$hb_from" ] && printf ',"rulesFrom":%s,"rulesAt":%s' "$(hb46pp_json_str "$hb_from")" "$(hb46pp_json_str "$hb_from_at")"
		[ -n "$hb_ttl" ] && printf ',"ttl":%s' "$hb_ttl"
		[ -n "$hb_server" ] && printf ',"server":%s,"verify":%s' "$(hb46pp_json_str "$hb_server")" "$([ "$hb_verify" = 1 ] && echo true || echo false)"
		printf ',"nextAt":%s,"nextAtEpoch":%s' "$(hb46pp_json_str "$next")" "$((now + delay))"
		[ -n "$hb_error" ] && printf ',"lastError":%s' "$(hb46pp_json_str "$hb_error")"
		printf '}\n'
	} >"$tmp" && mv "$tmp" "$hb_rules.status"
}

# The request URL (§3.3): the server's, with our identity and capabilities.
hb46pp_request_url() {
	local url="$1" sep="?"
	case "$url" in *\?*) sep="&" ;; esac
	printf '%s%svendorid=%s&product=%s&version=%s&capability=%s' "$url" "$sep" "${MAPE_HB46PP_VENDORID:-020000-mape_wasm}" \
		"$MAPE_HB46PP_PRODUCT" "$MAPE_HB46PP_VERSION" "$MAPE_HB46PP_CAPABILITY"
}

# The BMR's identity in a rule file for our prefixes (IPv4 address, port
# set, MAP address: what `mape ce` compares on a reload) into hb_id; also
# hb_prefix (the first prefix the rules accept), hb_addr4/6, hb_br. Fails
# (hb_id empty) when the module refuses the rules for every prefix.
hb46pp_bmr() {
	local file="$1" candidate calc k v bmr=""
	hb_prefix="" hb_addr4="" hb_addr6="" hb_br="" hb_id=""
	local errors=""
	for candidate in $hb_prefixes; do
		if calc="$(mape calc --format mapcalc --rules "$file" --prefix "$candidate" 2>&1)"; then
			hb_prefix="$candidate"
			break
		fi
		errors="${errors}mape: $hb_cfg: provisioning: end-user prefix $candidate: ${calc#mape: }
"
	done
	if [ -z "$hb_prefix" ]; then
		# Each candidate's refusal, only when none fits (as the handler does).
		printf '%s' "$errors" >&2
		return 1
	fi
	while IFS='=' read -r k v; do
		[ "$k" = RULE_BMR ] && bmr="$v"
	done <<EOF
$calc
EOF
	local ports=""
	while IFS='=' read -r k v; do
		case "$k" in
			"RULE_${bmr}_IPV4ADDR") hb_addr4="$v" ;;
			"RULE_${bmr}_IPV6ADDR") hb_addr6="$v" ;;
			"RULE_${bmr}_BR") hb_br="$v" ;;
			"RULE_${bmr}_PORTSETS") ports="$v" ;;
		esac
	done <<EOF
$calc
EOF
	[ -n "$hb_addr6" ] || return 1
	hb_id="$hb_addr4 $ports $hb_addr6"
}

# One pass of §3.6 a)–k). Sets hb_outcome (ok, absent, dns-failed,
# no-answer, refused) and hb_changed (1: new rules written).
hb46pp_attempt() {
	local out rc k v url="" verify=0 tmp err
	hb_changed=0
	hb_attempts=$((hb_attempts + 1))
	hb_attempt_at=$(hb46pp_now_iso)
	set -- --hb46pp-domain "${MAPE_HB46PP_DOMAIN:-4over6.info}"
	for v in $MAPE_HB46PP_DNS; do set -- "$@" --dns-server "$v"; done
	out="$(mape hb46pp discover "$@" 2>&1)"
	rc=$?
	if [ "$rc" != 0 ]; then
		hb_error="${out#mape: }"
		if [ "$rc" = 3 ]; then hb_outcome=absent; else hb_outcome=dns-failed; fi
		return 0
	fi
	while IFS='=' read -r k v; do
		case "$k" in
			url) url="$v" ;;
			verify) verify="$v" ;;
		esac
	done <<EOF
$out
EOF
	hb_server="$url" hb_verify="$verify"
	set -- -6 -q -T "$MAPE_HB46PP_FETCH_TIMEOUT"
	if [ "$verify" = 1 ] && [ "$MAPE_HB46PP_INSECURE" != 1 ]; then
		[ -n "$MAPE_HB46PP_CA" ] && set -- "$@" --ca-certificate="$MAPE_HB46PP_CA"
	else
		case "$url" in https:*) set -- "$@" --no-check-certificate ;; esac
	fi
	tmp="$hb_rules.new"
	rm -f "$tmp"
	err="$(uclient-fetch "$@" -O "$tmp" "$(hb46pp_request_url "$url")" 2>&1)"
	rc=$?
	if [ "$rc" != 0 ]; then
		rm -f "$tmp"
		err="$(printf '%s' "$err" | tr '\n' ' ')"
		# uclient-fetch: 8 an HTTP error status (403/404: not served), 5 a
		# certificate it does not trust; anything else: no answer.
		case "$rc" in
			8 | 5) hb_outcome=refused hb_error="the provisioning server refused: ${url%%\?*}: ${err:-uclient-fetch exit $rc}" ;;
			*) hb_outcome=no-answer hb_error="no answer from the provisioning server: ${url%%\?*}: ${err:-uclient-fetch exit $rc}" ;;
		esac
		return 0
	fi
	local new old=""
	if ! hb46pp_bmr "$tmp"; then
		rm -f "$tmp"
		hb_outcome=refused hb_error="the provisioning answer was refused (see the lines above)"
		return 0
	fi
	hb_ttl="$(mape calc --rules "$tmp" --prefix "$hb_prefix" 2>/dev/null | sed -n 's/^rule format .*ttl \([0-9]*\) s.*/\1/p')"
	hb_outcome=ok hb_error=""
	hb_from="${url%%\?*}" hb_from_at="$hb_attempt_at"
	if [ -f "$hb_rules" ] && hb46pp_same "$tmp" "$hb_rules"; then
		rm -f "$tmp"
		return 0
	fi
	[ -f "$hb_rules" ] && hb46pp_bmr "$hb_rules" && old="$hb_id"
	hb46pp_bmr "$tmp"
	new="$hb_id"
	mv "$tmp" "$hb_rules"
	hb_changed=1
	if [ -n "$old" ] && [ "$old" = "$new" ]; then hb_bmr_changed=0; else hb_bmr_changed=1; fi
	return 0
}

# The netifd update for the CE's TUN and the BMR's addresses (the handler's).
hb46pp_update() {
	mape_send_update "$hb_cfg" "$hb_tun" "$hb_zone" "$hb_addr4" "$hb_addr6" "$hb_br"
}

hb46pp_ce_start() {
	hb46pp_bmr "$hb_rules" || return 1
	mape ce --rules "$hb_rules" --prefix "$hb_prefix" --tun "$hb_tun" "$@" &
	hb_ce=$!
	local waited=0
	while [ ! -e "${MAPE_SYS_NET:-/sys/class/net}/$hb_tun" ] && [ "$waited" -lt "${MAPE_TUN_WAIT_SECONDS:-10}" ]; do
		kill -0 "$hb_ce" 2>/dev/null || break
		sleep 1
		waited=$((waited + 1))
	done
	hb46pp_log "CE started on $hb_tun: IPv4 $hb_addr4, MAP address $hb_addr6, BR $hb_br, end-user prefix $hb_prefix (rules $hb_rules)"
	hb46pp_update
}

hb46pp_ce_stop() {
	[ -n "$hb_ce" ] || return 0
	kill -TERM "$hb_ce" 2>/dev/null
	wait "$hb_ce" 2>/dev/null
	hb_ce=""
}

hb46pp_run() {
	hb_cfg="$1" hb_tun="$2" hb_rules="$3" hb_prefixes="$4" hb_zone="$5"
	shift 5
	[ "$1" = -- ] && shift
	hb_attempts=0 hb_ce="" hb_from="" hb_ttl="" hb_server="" hb_error=""
	mkdir -p "$(dirname "$hb_rules")"
	local run="${MAPE_RUN_DIR:-/var/run/mape}" pidfile="" hb_usr1=0 sleeper
	if [ -n "$MAPE_HB46PP_TUNLINK" ] && mkdir -p "$run"; then
		pidfile="$run/hb46pp.$MAPE_HB46PP_TUNLINK.$hb_cfg.pid"
		echo "$$" >"$pidfile"
	fi
	trap 'hb46pp_ce_stop; if [ -n "$pidfile" ]; then rm -f "$pidfile"; fi; exit 0' TERM INT
	trap 'hb_usr1=1' USR1
	if [ -f "$hb_rules" ]; then
		if hb46pp_bmr "$hb_rules"; then
			hb_from="saved rules $hb_rules" hb_from_at=$(hb46pp_now_iso)
			hb46pp_log "using the saved rules $hb_rules until a fetch succeeds"
			hb46pp_ce_start "$@"
		else
			hb46pp_log "the saved rules $hb_rules are refused: not used"
		fi
	fi
	local rounds=0 delay
	while :; do
		hb46pp_attempt
		case "$hb_outcome" in
			ok)
				if [ -z "$hb_ce" ]; then
					hb46pp_log "rules from $hb_from"
					hb46pp_ce_start "$@"
				elif [ "$hb_changed" = 1 ]; then
					if [ "$hb_bmr_changed" = 1 ]; then
						hb46pp_log "rules from $hb_from: BMR changed: the CE reloads them (its sessions reset) and netifd gets the new MAP address"
						kill -HUP "$hb_ce"
						hb46pp_bmr "$hb_rules"
						hb46pp_update
					else
						hb46pp_log "rules from $hb_from: BMR unchanged: the CE reloads them (its sessions kept)"
						kill -HUP "$hb_ce"
					fi
				fi
				delay=$(mape hb46pp delay ok --ttl "${hb_ttl:--1}")
				;;
			absent)
				hb46pp_log "provisioning off: $hb_error"
				if [ -n "$hb_ce" ]; then
					hb46pp_ce_stop
					hb46pp_log "MAP-E stopped until the provisioning server serves this line again"
				fi
				hb_from=""
				delay=$(mape hb46pp delay absent)
				;;
			*)
				hb46pp_log "$hb_error"
				delay=$(mape hb46pp delay "$hb_outcome")
				;;
		esac
		[ -n "$delay" ] || delay=600
		hb46pp_status "$([ "$hb_outcome" = absent ] && echo off || echo waiting)" "$delay"
		hb46pp_log "next attempt in $delay s"
		rounds=$((rounds + 1))
		[ -n "$MAPE_HB46PP_ROUNDS" ] && [ "$rounds" -ge "$MAPE_HB46PP_ROUNDS" ] && break
		sleep "$delay" &
		sleeper=$!
		wait "$sleeper"
		if [ "$hb_usr1" = 1 ]; then
			hb_usr1=0
			kill "$sleeper" 2>/dev/null
			local now_prefixes=""
			[ -n "$pidfile" ] && now_prefixes="$(cat "$run/prefixes.$MAPE_HB46PP_TUNLINK" 2>/dev/null)"
			if [ -n "$now_prefixes" ] && [ "$(hb46pp_words "$now_prefixes")" != "$(hb46pp_words "$hb_prefixes")" ]; then
				hb46pp_log "delegated prefix changed ($(hb46pp_words "$hb_prefixes") -> $(hb46pp_words "$now_prefixes")): fetching the rules again; the CE restarts on the new prefix"
				hb_prefixes="$now_prefixes"
				hb46pp_ce_stop
			fi
		fi
	done
	hb46pp_ce_stop
	if [ -n "$pidfile" ]; then rm -f "$pidfile"; fi
	return 0
}

[ -n "$INCLUDE_ONLY" ] || {
	INCLUDE_ONLY=1
	# shellcheck source=/dev/null
	. /lib/netifd/netifd-proto.sh
	# shellcheck source=/dev/null
	. /lib/netifd/proto/mape.sh
	case "$1" in
		run)
			shift
			hb46pp_run "$@"
			;;
		*)
			echo "usage: hb46pp.sh run <cfg> <tun> <rules file> <prefixes> <zone> -- <mape ce flags>" >&2
			exit 2
			;;
	esac
}
