#!/usr/bin/env bats
# What hostile traffic and stray signals must not do: make the inventory deaf, let a
# list's rows add up in memory, let a query outlive the gateway's patience, make the
# consumer parse a message of any size, or fill the log when a client leaves early.
# shellcheck disable=SC2016 # jq filters name their own $variables
bats_require_minimum_version 1.5.0

load ../lib/helpers

BIG_ROWS=1000
BIG_DESCRIPTION_CHARS=10000

setup_file() {
	# 1,000 movies of 10,000 characters: a full list is about 10 MB of JSON.
	export BIG_TAG="res-big-$RANDOM$RANDOM"
	app_psql POSTGRES -c "INSERT INTO movies (title, description)
		SELECT '$BIG_TAG-' || g, repeat('d', $BIG_DESCRIPTION_CHARS)
		FROM generate_series(1, $BIG_ROWS) g"
}

teardown_file() {
	app_psql POSTGRES -c "DELETE FROM movies WHERE title LIKE '$BIG_TAG-%'"
}

setup() {
	common_setup
	LOCKER=
}

teardown() {
	if [ -n "$LOCKER" ]; then
		app_psql POSTGRES -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = 'resources-locker'" >/dev/null || true
		wait "$LOCKER" 2>/dev/null || true
	fi
}

inventory_log() {
	"$PM2" jlist | jq -r 'first(.[] | select(.name == "inventory_app")) | .pm2_env.pm_err_log_path'
}

# answers_200 N: N requests one after the other, each answered 200 within 5 s.
answers_200() {
	local i status
	for ((i = 1; i <= $1; i++)); do
		status=$(curl -sS -o /dev/null --max-time 5 -w '%{http_code}' "$BASE_URL/api/movies?limit=1") ||
			{ echo "request $i: no answer within 5 s"; return 1; }
		[ "$status" = 200 ] || { echo "request $i: $status"; return 1; }
	done
}

# inventory_cgi [VAR=value...] -- PATH_INFO: one GET served by inventory_app run as
# plain CGI with the test stack's settings plus VAR=value; prints its whole output.
inventory_cgi() {
	local vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET SCRIPT_NAME=/api/movies \
		PATH_INFO="$2" QUERY_STRING= "${vars[@]}" "$BUILD_DIR/inventory_app" 2>/dev/null
}

# peak_kb PID: the most memory the process held resident since its peak was last reset.
peak_kb() {
	awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"
}

# fcgi_header TYPE LENGTH: the header of a FastCGI record of request 1, unpadded.
fcgi_header() {
	printf '%b' "$(printf '\\x01\\x%02x\\x00\\x01\\x%02x\\x%02x\\x00\\x00' "$1" $(($2 >> 8)) $(($2 & 255)))"
}

# fcgi_pair NAME VALUE: a FastCGI name-value pair (both 1 to 127 bytes).
fcgi_pair() {
	printf '%b%s%s' "$(printf '\\x%02x\\x%02x' ${#1} ${#2})" "$1" "$2"
}

# fcgi_list_and_hang_up SCRIPT_NAME QUERY_STRING: a GET sent to inventory_app over
# FastCGI; its first bytes are read, then the connection is closed.
fcgi_list_and_hang_up() {
	local LC_ALL=C params addr request=$BATS_TEST_TMPDIR/fcgi-request
	params=$(fcgi_pair REQUEST_METHOD GET)$(fcgi_pair SCRIPT_NAME "$1")$(fcgi_pair QUERY_STRING "$2")
	{
		fcgi_header 1 8                                   # FCGI_BEGIN_REQUEST, responder
		printf '\x00\x01\x00\x00\x00\x00\x00\x00'
		fcgi_header 4 ${#params}                          # FCGI_PARAMS, then their end
		printf '%s' "$params"
		fcgi_header 4 0
		fcgi_header 5 0                                   # an empty FCGI_STDIN
	} >"$request"
	addr=$(inventory_backend_addrs | head -n 1)
	if [[ $addr == unix:* ]]; then
		# bash opens no unix socket; perl (perl-base, in every Debian) does.
		perl -MIO::Socket::UNIX -e '
			my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "$ARGV[0]: $!\n";
			local $/; print {$s} scalar(<STDIN>);
			my $got = 0; while ($got < 1000) { my $n = sysread($s, my $buf, 1000 - $got) or last; $got += $n }' \
			"${addr#unix:}" <"$request"
		return
	fi
	exec 4<>"/dev/tcp/${addr%:*}/${addr##*:}"
	cat "$request" >&4
	head -c 1000 <&4 >/dev/null
	exec 4<&-
}

inventory_sessions_idle() {
	[ "$(app_psql POSTGRES -c "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'inventory_app' AND state <> 'idle'")" = 0 ]
}

lock_held() {
	[ "$(app_psql POSTGRES -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = 'resources-locker' AND l.relation = 'movies'::regclass
		AND l.granted")" -gt 0 ]
}

# publish_padded BODY SPACES: BODY (ASCII) followed by SPACES spaces, a raw persistent
# message straight to the queue, with the padding made by the node itself.
publish_padded() {
	local body=${1//\\/\\\\}
	body=${body//\"/\\\"}
	rabbit_url_parts
	rabbitmqctl_ eval "rabbit_basic:publish(rabbit_misc:r(<<\"$AMQP_VHOST\">>, exchange, <<>>),
		<<\"$QUEUE_NAME\">>, [{delivery_mode, 2}, {content_type, <<\"application/json\">>}],
		<<\"$body\", (binary:copy(<<\" \">>, $2))/binary>>)." >/dev/null
}

dead_letters_reach() {
	[ "$(queue_count "$QUEUE_NAME.dead")" -ge "$1" ]
}

orders_of_user() {
	app_psql POSTGRES_BILLING -c "SELECT count(*) FROM orders WHERE user_id = '$1'"
}

orders_of_user_are() {
	[ "$(orders_of_user "$1")" = "$2" ]
}

@test "USR1 and HUP leave every inventory_app instance serving" {
	pids=$(pm2_online_pids inventory_app)
	[ "$(wc -w <<<"$pids")" -ge 2 ]
	for sig in USR1 HUP; do
		# shellcheck disable=SC2086 # one pid per word
		kill -s "$sig" $pids
		# 80 requests: more than the worker threads of both instances together would
		# answer if each thread left after one more request (libfcgi's USR1 handler).
		run answers_200 80
		assert_success
	done
	assert_equal "$(pm2_online_pids inventory_app)" "$pids"
	run grep -c 'signal 10 (.*) ignored' "$(inventory_log)"
	assert [ "$output" -ge 2 ]
}

@test "a list of 1,000 movies of 10,000 characters is streamed row by row" {
	run curl -sS --max-time 30 "$BASE_URL/api/movies?title=$BIG_TAG&limit=1000"
	assert_success
	assert_equal "$(jq 'length' <<<"$output")" "$BIG_ROWS"
	assert_equal "$(jq '[.[].description | length] | min' <<<"$output")" "$BIG_DESCRIPTION_CHARS"

	if ldd "$BUILD_DIR/inventory_app" | grep -q libasan; then
		skip "resident memory is not comparable under AddressSanitizer (quarantine)"
	fi
	declare -A start
	pids=$(pm2_online_pids inventory_app)
	[ -n "$pids" ] || fail "no inventory_app instance online"
	for pid in $pids; do
		echo 5 >"/proc/$pid/clear_refs"   # resets the peak (VmHWM) to the current RSS
		start[$pid]=$(peak_kb "$pid")
	done
	run parallel_http 8 GET "/api/movies?title=$BIG_TAG&limit=1000"
	assert_equal "$(grep -c '^200$' <<<"$output")" 8
	for pid in $pids; do
		growth=$(($(peak_kb "$pid") - ${start[$pid]}))
		echo "inventory_app $pid: peak grew by $growth kB" >&3
		# The whole result held in libpq would be 10 MB per request on this list.
		assert [ "$growth" -lt 8192 ]
	done
}

@test "a client that leaves during a long list is logged once" {
	log=$(inventory_log)
	before=$(grep -c 'client went away' "$log" || true)
	# Straight to inventory_app: lighttpd reads a backend's reply to the end whatever
	# its client does, so only a FastCGI client can leave half-way.
	fcgi_list_and_hang_up "/api/movies" "title=$BIG_TAG&limit=1000"
	wait_for 30 inventory_sessions_idle
	run grep -c 'client went away' "$log"
	assert_equal "$output" $((before + 1))
	run answers_200 3
	assert_success
}

@test "the databases and every session talk UTF-8" {
	run app_psql POSTGRES -c "SELECT pg_encoding_to_char(encoding) FROM pg_database
		WHERE datname = current_database()"
	assert_output UTF8
	run app_psql POSTGRES_BILLING -c "SELECT pg_encoding_to_char(encoding) FROM pg_database
		WHERE datname = current_database()"
	assert_output UTF8
	# Text that Latin-1 cannot hold comes back intact even when libpq is told otherwise.
	id=$(create_titled "Ωmega 日本 café")
	run inventory_cgi PGCLIENTENCODING=LATIN1 -- "/$id"
	assert_line --partial "Status: 200"
	assert_equal "$(sed -n '/^{/p' <<<"$output" | jq -r .title)" "Ωmega 日本 café"
}

@test "a statement that waits past DB_STATEMENT_TIMEOUT_MS is cancelled and answered 503" {
	PGAPPNAME=resources-locker app_psql POSTGRES \
		-c "BEGIN" -c "LOCK TABLE movies IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(60)" \
		>/dev/null 2>&1 3>&- &
	LOCKER=$!
	wait_for 10 lock_held
	started=$SECONDS
	run inventory_cgi DB_STATEMENT_TIMEOUT_MS=500 -- /
	assert_line --partial "Status: 503"
	assert [ $((SECONDS - started)) -le 5 ]
}

@test "an oversized broker message is dead-lettered unparsed and billing_app keeps working" {
	user=big-msg-$RANDOM$RANDOM
	dead=$(queue_count "$QUEUE_NAME.dead")
	order=$(jq -cn --arg u "$user" \
		'{message_id: $u, user_id: $u, number_of_items: 1, total_amount: "1.00"}')
	# A valid order, made 70 KB long by whitespace: over the 64 KB default cap.
	publish_padded "$order" 70000
	wait_for 30 dead_letters_reach $((dead + 1))
	assert_equal "$(orders_of_user "$user")" 0
	status=$(http POST /api/billing -H 'Content-Type: application/json' \
		--data-binary "{\"user_id\": \"$user-ok\", \"number_of_items\": 1, \"total_amount\": \"1.00\"}")
	assert_equal "$status" 200
	wait_for 30 orders_of_user_are "$user-ok" 1
	run app_online billing_app
	assert_success
}
