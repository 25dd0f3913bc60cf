#!/usr/bin/env bats
# The inventory API end to end: what a movie request may hold (types, lengths, encodings,
# body limits, media types, ids, methods), and what it gets when it holds something else.
# Every test creates the rows it needs under a unique tag.
# shellcheck disable=SC2016 # jq filters name their own $variables
bats_require_minimum_version 1.5.0

load ../lib/helpers

setup() {
	common_setup
	TAG="t${BATS_TEST_NUMBER}x${RANDOM}${RANDOM}"
	JSON=(-H 'Content-Type: application/json')
}

# ---- validation -------------------------------------------------------------

@test "POST: a body that is not a JSON object is 400" {
	local b
	for b in '[]' '[{"title":"x"}]' '"title"' '42' 'null' 'true'; do
		run -0 http POST /api/movies "${JSON[@]}" --data-binary "$b"
		assert_output 400
		assert_problem 400
	done
}

@test "POST: malformed JSON, trailing garbage and an empty body are 400" {
	local b
	for b in '{' '{"title":' "{\"title\":\"$TAG\"" "{'title':'$TAG'}" "{title:\"$TAG\"}" \
		"{\"title\":\"$TAG\",}" "{\"title\":\"$TAG\"} x" "{\"title\":\"$TAG\"}{}" \
		"{\"title\":\"$TAG\"}]"; do
		run -0 http POST /api/movies "${JSON[@]}" --data-binary "$b"
		assert_output 400
		assert_problem 400
	done
	run -0 http POST /api/movies "${JSON[@]}" --data-binary ''
	assert_output 400
	assert_problem 400
	# no body and no Content-Length at all: the gateway asks for the length
	run -0 http POST /api/movies "${JSON[@]}"
	assert_output 411
	assert_problem 411
	assert_equal "$(sql_movies "SELECT count(*) FROM movies WHERE title LIKE '%$TAG%'")" 0
}

@test "POST: whitespace around the JSON object is allowed" {
	run -0 http POST /api/movies "${JSON[@]}" --data-binary $' \n{"title":"'"$TAG"$'"}\r\n\t'
	assert_output 201
}

@test "POST: title is required, a non-empty string" {
	local b
	for b in '{}' '{"description":"d"}' '{"Title":"x"}' '{"title":""}' '{"title":null}' \
		'{"title":42}' '{"title":true}' '{"title":["x"]}' '{"title":{"x":1}}' \
		'{"title":"a\u0000b"}'; do
		run -0 http POST /api/movies "${JSON[@]}" --data-binary "$b"
		assert_output 400
		assert_problem 400 title
	done
}

@test "POST: description must be a string or null" {
	local b
	for b in 42 false '[]' '{}' '"a\u0000b"'; do
		run -0 http POST /api/movies "${JSON[@]}" --data-binary "{\"title\":\"$TAG\",\"description\":$b}"
		assert_output 400
		assert_problem 400 description
	done
	assert_equal "$(sql_movies "SELECT count(*) FROM movies WHERE title = '$TAG'")" 0
}

@test "PUT: a mistyped field is 400 naming it" {
	local id
	id=$(create_titled "$TAG typed")
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary '{"title":5}'
	assert_output 400
	assert_problem 400 title
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary '{"description":5}'
	assert_output 400
	assert_problem 400 description
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary '[]'
	assert_output 400
	assert_problem 400
}

@test "title: 255 characters pass, 256 are 400 (ASCII)" {
	local t255 t256
	t255=$TAG$(head -c $((255 - ${#TAG})) /dev/zero | tr '\0' a)
	t256="${t255}b"
	[ "${#t255}" -eq 255 ]
	run -0 http POST /api/movies "${JSON[@]}" --data-binary "$(jq -cn --arg t "$t255" '{title: $t}')"
	assert_output 201
	jqb '.title == $t' --arg t "$t255"
	run -0 http POST /api/movies "${JSON[@]}" --data-binary "$(jq -cn --arg t "$t256" '{title: $t}')"
	assert_output 400
	assert_problem 400 title
}

@test "title: 255 multibyte characters pass, 256 are 400" {
	local t255 t256 id
	t255="$(printf '東%.0s' {1..254})🎬"
	t256="${t255}é"
	run -0 http POST /api/movies "${JSON[@]}" --data-binary "$(jq -cn --arg t "$t255" '{title: $t}')"
	assert_output 201
	jqb '.title == $t and (.title | length) == 255' --arg t "$t255"
	id=$(jq -r .id "$BATS_TEST_TMPDIR/body")
	assert_equal "$(sql_movies "SELECT char_length(title) FROM movies WHERE id = $id")" 255
	run -0 http POST /api/movies "${JSON[@]}" --data-binary "$(jq -cn --arg t "$t256" '{title: $t}')"
	assert_output 400
	assert_problem 400 title
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary "$(jq -cn --arg t "$t256" '{title: $t}')"
	assert_output 400
	assert_problem 400 title
}

@test "description: 10000 characters pass, 10001 are 400" {
	local d10000 id
	d10000=$(head -c 10000 /dev/zero | tr '\0' d)
	run -0 http POST /api/movies "${JSON[@]}" \
		--data-binary "$(jq -cn --arg t "$TAG" --arg d "$d10000" '{title: $t, description: $d}')"
	assert_output 201
	jqb '(.description | length) == 10000'
	id=$(jq -r .id "$BATS_TEST_TMPDIR/body")
	run -0 http POST /api/movies "${JSON[@]}" \
		--data-binary "$(jq -cn --arg t "$TAG" --arg d "${d10000}d" '{title: $t, description: $d}')"
	assert_output 400
	assert_problem 400 description
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" \
		--data-binary "$(jq -cn --arg d "${d10000}é" '{description: $d}')"
	assert_output 400
	assert_problem 400 description
}

@test "body over REQUEST_BODY_MAX_KB: 413 problem" {
	local limit=$((${REQUEST_BODY_MAX_KB:-64} * 1024)) f="$BATS_TEST_TMPDIR/big.json"
	# {"title":"x","description":"ddd..."}: limit + 1 bytes
	{
		printf '{"title":"%s","description":"' "$TAG"
		head -c $((limit + 1 - ${#TAG} - 29)) /dev/zero | tr '\0' d
		printf '"}'
	} >"$f"
	[ "$(stat -c %s "$f")" -eq $((limit + 1)) ]
	run --separate-stderr http POST /api/movies "${JSON[@]}" --data-binary "@$f"
	assert_output 413
	assert_problem 413
	run --separate-stderr http POST /api/movies "${JSON[@]}" --data-binary "@$f" -H 'Expect:'
	assert_output 413
	assert_problem 413
	head -c $((limit * 4)) /dev/zero | tr '\0' ' ' >"$f"
	run --separate-stderr http PUT /api/movies/1 "${JSON[@]}" --data-binary "@$f"
	assert_output 413
	assert_problem 413
	assert_equal "$(sql_movies "SELECT count(*) FROM movies WHERE title = '$TAG'")" 0
}

@test "body of exactly REQUEST_BODY_MAX_KB is read (and judged on its content)" {
	local limit=$((${REQUEST_BODY_MAX_KB:-64} * 1024)) f="$BATS_TEST_TMPDIR/edge.json"
	{
		printf '{"title":"%s","description":"' "$TAG"
		head -c $((limit - ${#TAG} - 29)) /dev/zero | tr '\0' d
		printf '"}'
	} >"$f"
	[ "$(stat -c %s "$f")" -eq "$limit" ]
	run -0 http POST /api/movies "${JSON[@]}" --data-binary "@$f"
	assert_output 400
	assert_problem 400 description
}

@test "POST/PUT without a JSON Content-Type: 415" {
	local id ct
	id=$(create_titled "$TAG ct")
	for ct in 'Content-Type: text/plain' 'Content-Type: application/x-www-form-urlencoded' \
		'Content-Type: application/jsonp' 'Content-Type: text/json' 'Content-Type:'; do
		run -0 http POST /api/movies -H "$ct" --data-binary "{\"title\":\"$TAG\"}"
		assert_output 415
		assert_problem 415
		run -0 http PUT "/api/movies/$id" -H "$ct" --data-binary '{"title":"x"}'
		assert_output 415
		assert_problem 415
	done
	# curl's default for --data is a form, not JSON
	run -0 http POST /api/movies --data "{\"title\":\"$TAG\"}"
	assert_output 415
	assert_equal "$(sql_movies "SELECT count(*) FROM movies WHERE title = '$TAG'")" 0
	run -0 http GET "/api/movies/$id"
	assert_output 200
	jqb '.title == $t' --arg t "$TAG ct"
}

@test "ids that are not positive bigints: 404 problem for GET, PUT and DELETE, never 500" {
	local id
	for id in 0 -1 abc 1.5 99999999999999999999 9223372036854775808 1/2 1e3 0x1 '+1' '%20' 1abc; do
		run -0 http GET "/api/movies/$id"
		assert_output 404
		assert_problem 404
		run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary '{"title":"x"}'
		assert_output 404
		assert_problem 404
		run -0 http DELETE "/api/movies/$id"
		assert_output 404
		assert_problem 404
	done
}

@test "PATCH on the collection: 405 with Allow" {
	run -0 http PATCH /api/movies "${JSON[@]}" --data-binary '{"title":"x"}'
	assert_output 405
	assert_problem 405
	local allow
	allow=$(header Allow)
	[[ $allow == *GET* && $allow == *POST* && $allow == *DELETE* && $allow == *HEAD* ]] ||
		fail "Allow: '$allow'"
	[[ $allow != *PUT* && $allow != *PATCH* ]] || fail "Allow: '$allow'"
	run -0 http PUT /api/movies "${JSON[@]}" --data-binary '{"title":"x"}'
	assert_output 405
	assert_equal "$(header Allow)" "$allow"
}

@test "PATCH on an item: 405 with Allow" {
	local id allow
	id=$(create_titled "$TAG patch")
	run -0 http PATCH "/api/movies/$id" "${JSON[@]}" --data-binary '{"title":"x"}'
	assert_output 405
	assert_problem 405
	allow=$(header Allow)
	[[ $allow == *GET* && $allow == *PUT* && $allow == *DELETE* && $allow == *HEAD* ]] ||
		fail "Allow: '$allow'"
	[[ $allow != *POST* && $allow != *PATCH* ]] || fail "Allow: '$allow'"
	run -0 http GET "/api/movies/$id"
	assert_output 200
	jqb '.title == $t' --arg t "$TAG patch"
}

@test "invalid UTF-8 in the body: 400" {
	local bad f="$BATS_TEST_TMPDIR/bad.json"
	for bad in '\xff' '\xc3' '\xc3(' '\xc0\xaf' '\xe0\x80\xaf' '\xed\xa0\x80' '\xf4\x90\x80\x80' '\xf8\x88\x80\x80\x80'; do
		printf '{"title":"%s %b"}' "$TAG" "$bad" >"$f"
		run -0 http POST /api/movies "${JSON[@]}" --data-binary "@$f"
		assert_output 400
		assert_problem 400
		printf '{"title":"%s","note":"%b"}' "$TAG" "$bad" >"$f"
		run -0 http POST /api/movies "${JSON[@]}" --data-binary "@$f"
		assert_output 400
		assert_problem 400
	done
	assert_equal "$(sql_movies "SELECT count(*) FROM movies WHERE title LIKE '$TAG%'")" 0
}

@test "Unicode titles round-trip byte for byte" {
	local t="Amélie — 東京物語 🎬 $TAG" d=$'Ünïcödé\ttab\nnewline "quotes" \\ back / slash' id
	id=$(create_movie "$(jq -cn --arg t "$t" --arg d "$d" '{title: $t, description: $d}')")
	jqb '.title == $t and .description == $d' --arg t "$t" --arg d "$d"
	run -0 http GET "/api/movies/$id"
	assert_output 200
	jqb '.title == $t and .description == $d' --arg t "$t" --arg d "$d"
	assert_equal "$(jq -r .title "$BATS_TEST_TMPDIR/body" | od -An -tx1)" "$(printf '%s\n' "$t" | od -An -tx1)"
	assert_equal "$(sql_movies "SELECT title FROM movies WHERE id = $id")" "$t"
	# \u escapes, including a surrogate pair, decode to the same characters
	run -0 http POST /api/movies "${JSON[@]}" \
		--data-binary "{\"title\":\"Am\\u00e9lie \\u2014 \\u6771\\u4eac\\u7269\\u8a9e \\ud83c\\udfac $TAG\"}"
	assert_output 201
	jqb '.title == $t' --arg t "$t"
	# the filter finds them by a non-ASCII substring
	run -0 http GET "/api/movies?title=$(urlencode "東京物語 🎬 $TAG")"
	assert_output 200
	jqb 'length == 2 and all(.title == $t)' --arg t "$t"
}

@test "SQL metacharacters are stored literally" {
	local t="Robert'); DROP TABLE movies;-- $TAG" d="' OR '1'='1; -- \\ %_" id
	id=$(create_movie "$(jq -cn --arg t "$t" --arg d "$d" '{title: $t, description: $d}')")
	run -0 http GET "/api/movies/$id"
	assert_output 200
	jqb '.title == $t and .description == $d' --arg t "$t" --arg d "$d"
	run -0 http GET "/api/movies?title=$(urlencode "Robert'); DROP TABLE movies;-- $TAG")"
	assert_output 200
	jqb 'map(.id) == [$id]' --argjson id "$id"
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary "$(jq -cn --arg t "$t'--" '{title: $t}')"
	assert_output 200
	jqb '.title == $t' --arg t "$t'--"
	assert_equal "$(sql_movies "SELECT to_regclass('movies') IS NOT NULL")" t
}
