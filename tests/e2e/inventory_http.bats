#!/usr/bin/env bats
# The inventory API end to end, as HTTP: trailing slashes, unknown paths, error bodies,
# headers the gateway adds or hides, HEAD, percent-encoding.
# Every test creates the rows it needs under a unique tag.
# shellcheck disable=SC2016 # jq filters name their own $variables
bats_require_minimum_version 1.5.0

load ../lib/helpers

setup() {
	common_setup
	TAG="t${BATS_TEST_NUMBER}x${RANDOM}${RANDOM}"
	JSON=(-H 'Content-Type: application/json')
}

# raw_request TEXT: sends TEXT over a fresh HTTP/1.0 connection; prints the whole reply
# and then END (so that $(...) keeps the reply's trailing newlines).
raw_request() {
	local hostport=${BASE_URL#http://}
	hostport=${hostport%%/*}
	exec {fd}<>"/dev/tcp/${hostport%:*}/${hostport##*:}"
	printf '%s' "$1" >&"$fd"
	timeout 10 cat <&"$fd"
	exec {fd}>&-
	printf END
}

# ---- trailing slash ---------------------------------------------------------

@test "trailing slash: /api/movies/ answers like /api/movies (GET, HEAD, POST, PUT, PATCH)" {
	create_titled "$TAG slash" >/dev/null
	run -0 http GET "/api/movies/?title=$TAG"
	assert_output 200
	assert_equal "$(header Location)" ""
	jqb 'map(.title) == [$t]' --arg t "$TAG slash"
	run -0 http HEAD /api/movies/
	assert_output 200
	assert_equal "$(header Location)" ""
	run -0 http POST /api/movies/ "${JSON[@]}" --data-binary "{\"title\":\"$TAG posted\"}"
	assert_output 201
	assert_equal "$(header Location)" "/api/movies/$(jq -r .id "$BATS_TEST_TMPDIR/body")"
	local m
	for m in PUT PATCH; do
		run -0 http "$m" /api/movies "${JSON[@]}" --data-binary '{"title":"x"}'
		local plain=$output allow
		allow=$(header Allow)
		run -0 http "$m" /api/movies/ "${JSON[@]}" --data-binary '{"title":"x"}'
		assert_output "$plain"
		assert_output 405
		assert_equal "$(header Allow)" "$allow"
		assert_equal "$(header Location)" ""
	done
	run -0 http POST /api/movies/ "${JSON[@]}" --data-binary '{"title":""}'
	assert_output 400
	assert_problem 400 title
}

@test "trailing slash: /api/movies/:id/ answers like /api/movies/:id (GET, HEAD, PUT, POST, DELETE)" {
	local id
	id=$(create_titled "$TAG item slash")
	run -0 http GET "/api/movies/$id/"
	assert_output 200
	assert_equal "$(header Location)" ""
	jqb '.id == $id' --argjson id "$id"
	run -0 http HEAD "/api/movies/$id/"
	assert_output 200
	run -0 http PUT "/api/movies/$id/" "${JSON[@]}" --data-binary "{\"title\":\"$TAG renamed\"}"
	assert_output 200
	assert_equal "$(header Location)" ""
	jqb '.title == $t' --arg t "$TAG renamed"
	run -0 http POST "/api/movies/$id/" "${JSON[@]}" --data-binary '{"title":"x"}'
	assert_output 405
	assert_problem 405
	run -0 http DELETE "/api/movies/$id/"
	assert_output 200
	assert_equal "$(header Location)" ""
	jqb '. == {deleted: 1, id: $id}' --argjson id "$id"
	run -0 http GET "/api/movies/$id/"
	assert_output 404
	assert_problem 404
	run -0 http DELETE "/api/movies/$id/"
	assert_output 404
}

# ---- errors, headers, gateway -----------------------------------------------

@test "unknown paths: 404 problem+json, never HTML" {
	local p
	for p in / /api /api/ /api/nothing /api/moviesXYZ /api/movies/1/2 /api/movies/1/2/ /index.html /api/movies.json; do
		run -0 http GET "$p"
		assert_output 404
		assert_problem 404
		run grep -qi '<html' "$BATS_TEST_TMPDIR/body"
		assert_failure
	done
	run -0 http POST /api/nothing "${JSON[@]}" --data-binary '{}'
	assert_output 404
	assert_problem 404
}

@test "no Server version and no backend address in responses" {
	local addr_re
	addr_re=$(inventory_address_re)
	local id server req
	id=$(create_titled "$TAG server")
	# "STATUS METHOD PATH": each answer is the one expected, then searched for leaks
	for req in "200 GET /api/movies?title=$TAG" "200 GET /api/movies/$id" "404 GET /" \
		"404 GET /api/nothing" "405 PATCH /api/movies" "404 GET /api/movies/abc" \
		"400 GET /api/movies?limit=0"; do
		run -0 http "$(cut -d' ' -f2 <<<"$req")" "${req#* * }"
		assert_equal "$output ${req#* }" "$req"
		server=$(header Server)
		if [[ $server =~ [0-9] || $server == *lighttpd* ]]; then
			fail "$req: Server: $server"
		fi
		run grep -Eq "$addr_re" "$BATS_TEST_TMPDIR/body"
		assert_failure
		run grep -Eqi 'lighttpd|fastcgi|postgres|libpq' "$BATS_TEST_TMPDIR/body"
		assert_failure
	done
}

@test "every error status carries a problem whose status matches" {
	local id
	id=$(create_titled "$TAG problems")
	run -0 http GET /api/movies/0
	assert_output 404
	assert_problem "$output"
	run -0 http GET "/api/movies?offset=-5"
	assert_output 400
	assert_problem "$output" offset
	run -0 http PATCH "/api/movies/$id"
	assert_output 405
	assert_problem "$output"
	run -0 http POST /api/movies -H 'Content-Type: text/plain' --data-binary x
	assert_output 415
	assert_problem "$output"
	run -0 http POST /api/movies "${JSON[@]}" --data-binary '{"title":1}'
	assert_output 400
	assert_problem "$output" title
	run -0 http GET /nowhere
	assert_output 404
	assert_problem "$output"
}

@test "X-Request-Id is echoed back unchanged, and a request without one gets a fresh one" {
	local rid="req-${TAG}-AbC_123.z:9" id
	run -0 http GET /api/movies -H "X-Request-Id: $rid"
	assert_output 200
	assert_equal "$(header X-Request-Id)" "$rid"
	run -0 http POST /api/movies "${JSON[@]}" -H "X-Request-Id: $rid" --data-binary "{\"title\":\"$TAG\"}"
	assert_output 201
	assert_equal "$(header X-Request-Id)" "$rid"
	id=$(jq -r .id "$BATS_TEST_TMPDIR/body")
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" -H "X-Request-Id: $rid" --data-binary '{"title":""}'
	assert_output 400
	assert_equal "$(header X-Request-Id)" "$rid"
	run -0 http GET /api/movies/0 -H "X-Request-Id: $rid"
	assert_output 404
	assert_equal "$(header X-Request-Id)" "$rid"
	run -0 http GET /api/movies
	assert_output 200
	assert_regex "$(header X-Request-Id)" '^[0-9a-f]{32}$'
}

@test "percent-encoded query strings reach the program decoded" {
	create_titled "$TAG Tom & Jerry = 100%" >/dev/null
	create_titled "$TAG Café+Crème" >/dev/null
	run -0 http GET "/api/movies?title=${TAG}%20Tom%20%26%20Jerry%20%3D%20100%25"
	assert_output 200
	jqb 'map(.title) == ["\($t) Tom & Jerry = 100%"]' --arg t "$TAG"
	run -0 http GET "/api/movies?title=${TAG}+Tom+%26"
	assert_output 200
	jqb 'map(.title) == ["\($t) Tom & Jerry = 100%"]' --arg t "$TAG"
	run -0 http GET "/api/movies?title=${TAG}%20Caf%C3%A9%2BCr%C3%A8me"
	assert_output 200
	jqb 'map(.title) == ["\($t) Café+Crème"]' --arg t "$TAG"
	run -0 http GET "/api/movies?limit=%31&title=${TAG}%20caf%C3%A9"
	assert_output 200
	jqb 'length == 1'
}

@test "HEAD /api/movies: 200, headers, no body" {
	create_titled "$TAG head" >/dev/null
	run -0 http HEAD /api/movies
	assert_output 200
	[[ $(header Content-Type) == application/json* ]]
	run -0 raw_request $'HEAD /api/movies HTTP/1.0\r\nHost: gateway\r\n\r\n'
	# lighttpd answers 1.0 as 1.0, Apache as 1.1, its own version (RFC 9110, 6.2): both hold
	[[ ${lines[0]} == HTTP/1.[01]" 200"* ]] || fail "status line: ${lines[0]}"
	# nothing follows the blank line that ends the head
	[[ $output == *$'\r\n\r\nEND' ]] || fail "a body after the head, or no end of head: $output"
	# Apache's plain CGI drops a program's Content-Length on HEAD (it counts the body the
	# program rightly did not send, RFC 3875 4.3.3); the Apache runner says HEAD_LENGTH_DROPPED=1.
	[ "${HEAD_LENGTH_DROPPED:-0}" = 1 ] ||
		[[ $output == *$'\r\nContent-Length: '[1-9]* ]] || fail "no Content-Length: $output"
}

@test "HEAD /api/movies/:id: 200 without a body, 404 for a missing one" {
	local id
	id=$(create_titled "$TAG head item")
	run -0 raw_request "HEAD /api/movies/$id HTTP/1.0"$'\r\nHost: gateway\r\n\r\n'
	[[ ${lines[0]} == HTTP/1.[01]" 200"* ]] || fail "status line: ${lines[0]}"
	[[ $output == *$'\r\n\r\nEND' ]] || fail "a body after the head: $output"
	run -0 http HEAD /api/movies/9223372036854775807
	assert_output 404
}
