#!/usr/bin/env bats
# The inventory API end to end: curl -> lighttpd gateway -> inventory_app -> PostgreSQL.
# Every test creates the rows it needs under a unique tag; only the DELETE /api/movies
# test removes rows it did not create.
# shellcheck disable=SC2016 # jq filters name their own $variables
bats_require_minimum_version 1.5.0

load ../lib/helpers

setup() {
	common_setup
	TAG="t${BATS_TEST_NUMBER}x${RANDOM}${RANDOM}"
	JSON=(-H 'Content-Type: application/json')
}

# ---- helpers local to this file ---------------------------------------------

# urlencode TEXT: percent-encodes every byte outside the unreserved set.
urlencode() {
	jq -rn --arg v "$1" '$v | @uri'
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

# ---- GET /api/movies --------------------------------------------------------

@test "GET /api/movies: 200 JSON array of {id,title,description} ordered by id" {
	local a b c
	a=$(create_titled "$TAG one")
	b=$(create_movie "$(jq -cn --arg t "$TAG two" '{title: $t, description: "second"}')")
	c=$(create_titled "$TAG three")
	run -0 http GET "/api/movies?title=$TAG"
	assert_output 200
	[[ $(header Content-Type) == application/json* ]]
	jqb 'type == "array" and length == 3'
	jqb 'map(keys == ["description", "id", "title"]) | all'
	jqb 'map(.id) == [$a, $b, $c]' --argjson a "$a" --argjson b "$b" --argjson c "$c"
	jqb '.[1] == {id: $b, title: $t, description: "second"}' --argjson b "$b" --arg t "$TAG two"
	jqb '.[0].description == null'
}

@test "GET /api/movies without a filter lists everything in id order" {
	local a b
	a=$(create_titled "$TAG first")
	b=$(create_titled "$TAG second")
	run -0 http GET /api/movies
	assert_output 200
	jqb 'type == "array" and (map(.id) == (map(.id) | sort)) and (map(.id) | unique | length) == length'
	jqb 'map(.id) | index($a) < index($b)' --argjson a "$a" --argjson b "$b"
}

@test "GET /api/movies?title= is a case-insensitive substring filter" {
	create_titled "The ${TAG} Strikes Back" >/dev/null
	create_titled "${TAG^^} RETURNS" >/dev/null
	create_titled "unrelated ${TAG:0:3}" >/dev/null
	run -0 http GET "/api/movies?title=${TAG^}"
	assert_output 200
	jqb 'length == 2 and (map(.title) == ["The \($t) Strikes Back", "\($t | ascii_upcase) RETURNS"])' --arg t "$TAG"
	run -0 http GET "/api/movies?title=s%20back"
	assert_output 200
	jqb 'map(.title) | index("The \($t) Strikes Back") != null' --arg t "$TAG"
}

@test "GET /api/movies?title= matches % literally" {
	create_titled "${TAG} 100% Pure" >/dev/null
	create_titled "${TAG} 100X Pure" >/dev/null
	create_titled "${TAG} 1000 Pure" >/dev/null
	run -0 http GET "/api/movies?title=$(urlencode "${TAG} 100%")"
	assert_output 200
	jqb 'map(.title) == ["\($t) 100% Pure"]' --arg t "$TAG"
	run -0 http GET "/api/movies?title=$(urlencode "${TAG} 100% P")"
	assert_output 200
	jqb 'map(.title) == ["\($t) 100% Pure"]' --arg t "$TAG"
}

@test "GET /api/movies?title= matches _ literally" {
	create_titled "${TAG}a_b" >/dev/null
	create_titled "${TAG}axb" >/dev/null
	create_titled "${TAG}ab" >/dev/null
	run -0 http GET "/api/movies?title=${TAG}a_b"
	assert_output 200
	jqb 'map(.title) == ["\($t)a_b"]' --arg t "$TAG"
	run -0 http GET "/api/movies?title=${TAG}a%5Fb"
	assert_output 200
	jqb 'map(.title) == ["\($t)a_b"]' --arg t "$TAG"
}

@test "GET /api/movies?title= treats a backslash and a quote as text" {
	create_titled "${TAG} back\\slash" >/dev/null
	create_titled "${TAG} it's" >/dev/null
	run -0 http GET "/api/movies?title=$(urlencode "${TAG} back\\s")"
	assert_output 200
	jqb 'map(.title) == ["\($t) back\\slash"]' --arg t "$TAG"
	run -0 http GET "/api/movies?title=$(urlencode "${TAG} it'")"
	assert_output 200
	jqb 'map(.title) == ["\($t) it'"'"'s"]' --arg t "$TAG"
}

@test "GET /api/movies?title= with no match is an empty array" {
	run -0 http GET "/api/movies?title=${TAG}-nothing-has-this"
	assert_output 200
	jqb '. == []'
}

@test "GET /api/movies: limit and offset page through the ordered list" {
	local ids=() i
	for i in 1 2 3 4 5; do
		ids+=("$(create_titled "$TAG page $i")")
	done
	run -0 http GET "/api/movies?title=$TAG&limit=2"
	assert_output 200
	jqb 'map(.id) == [$a, $b]' --argjson a "${ids[0]}" --argjson b "${ids[1]}"
	run -0 http GET "/api/movies?title=$TAG&limit=2&offset=2"
	assert_output 200
	jqb 'map(.id) == [$a, $b]' --argjson a "${ids[2]}" --argjson b "${ids[3]}"
	run -0 http GET "/api/movies?offset=4&title=$TAG&limit=2"
	assert_output 200
	jqb 'map(.id) == [$a]' --argjson a "${ids[4]}"
	run -0 http GET "/api/movies?title=$TAG&offset=5"
	assert_output 200
	jqb '. == []'
	run -0 http GET "/api/movies?title=$TAG&limit=1000&offset=0"
	assert_output 200
	jqb 'length == 5'
	run -0 http GET "/api/movies?title=$TAG&limit=1"
	assert_output 200
	jqb 'map(.id) == [$a]' --argjson a "${ids[0]}"
	run -0 http GET "/api/movies?title=$TAG&offset=9223372036854775807"
	assert_output 200
	jqb '. == []'
}

@test "GET /api/movies: a bad limit is 400 naming limit" {
	local v
	for v in 0 1001 -1 abc 1.5 '' 1e2 '%2B5' '5%20' 99999999999999999999 0x10; do
		run -0 http GET "/api/movies?limit=$v"
		assert_output 400
		assert_problem 400 limit
	done
}

@test "GET /api/movies: a bad offset is 400 naming offset" {
	local v
	for v in -1 abc 1.5 '' 9223372036854775808 99999999999999999999 '%2D1'; do
		run -0 http GET "/api/movies?offset=$v"
		assert_output 400
		assert_problem 400 offset
	done
}

@test "GET /api/movies: a title filter that is not UTF-8 (or holds NUL) is 400" {
	run -0 http GET "/api/movies?title=%C3"
	assert_output 400
	assert_problem 400 title
	# the gateway may refuse these itself, before the program sees them; a NUL is
	# refused rather than cutting the filter short
	local q
	for q in 'title=%FF' 'title=%C0%AF' 'title=%ED%A0%80' 'title=a%00b'; do
		run -0 http GET "/api/movies?$q"
		assert_output 400
		assert_problem 400
	done
}

# ---- POST /api/movies -------------------------------------------------------

@test "POST /api/movies: 201, Location of the new movie, body is the movie" {
	run -0 http POST /api/movies "${JSON[@]}" \
		--data-binary "{\"title\":\"$TAG Alien\",\"description\":\"In space no one can hear you scream.\"}"
	assert_output 201
	[[ $(header Content-Type) == application/json* ]]
	jqb '(keys == ["description", "id", "title"]) and (.id | type == "number" and . >= 1)
	     and .title == "\($t) Alien" and .description == "In space no one can hear you scream."' --arg t "$TAG"
	local id
	id=$(jq -r .id "$BATS_TEST_TMPDIR/body")
	assert_equal "$(header Location)" "/api/movies/$id"
	cp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_TMPDIR/created"
	run -0 http GET "/api/movies/$id"
	assert_output 200
	run -0 jq -e --slurpfile c "$BATS_TEST_TMPDIR/created" '. == $c[0]' "$BATS_TEST_TMPDIR/body"
}

@test "POST /api/movies: description is optional and may be null" {
	run -0 http POST /api/movies "${JSON[@]}" --data-binary "{\"title\":\"$TAG no description\"}"
	assert_output 201
	jqb '.description == null and has("description")'
	run -0 http POST /api/movies "${JSON[@]}" \
		--data-binary "{\"title\":\"$TAG null description\",\"description\":null}"
	assert_output 201
	jqb '.description == null'
	run -0 http POST /api/movies "${JSON[@]}" \
		--data-binary "{\"title\":\"$TAG empty description\",\"description\":\"\"}"
	assert_output 201
	jqb '.description == ""'
}

@test "POST /api/movies: unknown fields are ignored, an id in the body is not used" {
	run -0 http POST /api/movies "${JSON[@]}" \
		--data-binary "{\"id\":987654321,\"title\":\"$TAG extra\",\"year\":1979}"
	assert_output 201
	jqb '.id != 987654321 and (keys == ["description", "id", "title"])'
}

@test "POST /api/movies: Content-Type with parameters is accepted" {
	run -0 http POST /api/movies -H 'Content-Type: application/json; charset=utf-8' \
		--data-binary "{\"title\":\"$TAG charset\"}"
	assert_output 201
}

# ---- DELETE /api/movies -----------------------------------------------------

@test "DELETE /api/movies: 200 {deleted: N}, with or without the trailing slash" {
	create_titled "$TAG a" >/dev/null
	create_titled "$TAG b" >/dev/null
	local before
	before=$(sql_movies 'SELECT count(*) FROM movies')
	[ "$before" -ge 2 ]
	run -0 http DELETE /api/movies
	assert_output 200
	[[ $(header Content-Type) == application/json* ]]
	jqb '. == {deleted: $n}' --argjson n "$before"
	assert_equal "$(sql_movies 'SELECT count(*) FROM movies')" 0
	run -0 http GET /api/movies
	assert_output 200
	jqb '. == []'

	create_titled "$TAG c" >/dev/null
	run -0 http DELETE /api/movies/
	assert_output 200
	jqb '. == {deleted: 1}'
	assert_equal "$(header Location)" ""
	run -0 http DELETE /api/movies
	assert_output 200
	jqb '. == {deleted: 0}'
}

# ---- /api/movies/:id --------------------------------------------------------

@test "GET /api/movies/:id: 200 with the movie" {
	local id
	id=$(create_movie "$(jq -cn --arg t "$TAG get" '{title: $t, description: "d"}')")
	run -0 http GET "/api/movies/$id"
	assert_output 200
	[[ $(header Content-Type) == application/json* ]]
	jqb '. == {id: $id, title: $t, description: "d"}' --argjson id "$id" --arg t "$TAG get"
}

@test "GET /api/movies/:id of a missing movie: 404 problem" {
	local id
	id=$(create_titled "$TAG gone")
	run -0 http DELETE "/api/movies/$id"
	assert_output 200
	run -0 http GET "/api/movies/$id"
	assert_output 404
	assert_problem 404
	run -0 http GET /api/movies/9223372036854775807
	assert_output 404
	assert_problem 404
}

@test "PUT /api/movies/:id: title only keeps the description" {
	local id
	id=$(create_movie "$(jq -cn --arg t "$TAG old" '{title: $t, description: "kept"}')")
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary "{\"title\":\"$TAG new\"}"
	assert_output 200
	[[ $(header Content-Type) == application/json* ]]
	jqb '. == {id: $id, title: $t, description: "kept"}' --argjson id "$id" --arg t "$TAG new"
	run -0 http GET "/api/movies/$id"
	assert_output 200
	jqb '. == {id: $id, title: $t, description: "kept"}' --argjson id "$id" --arg t "$TAG new"
}

@test "PUT /api/movies/:id: description only keeps the title" {
	local id
	id=$(create_movie "$(jq -cn --arg t "$TAG keep" '{title: $t, description: "old"}')")
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary '{"description":"new"}'
	assert_output 200
	jqb '. == {id: $id, title: $t, description: "new"}' --argjson id "$id" --arg t "$TAG keep"
	run -0 http GET "/api/movies/$id"
	assert_output 200
	jqb '.description == "new" and .title == $t' --arg t "$TAG keep"
}

@test "PUT /api/movies/:id: description can be set to null" {
	local id
	id=$(create_movie "$(jq -cn --arg t "$TAG null me" '{title: $t, description: "to be cleared"}')")
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary '{"description":null}'
	assert_output 200
	jqb '. == {id: $id, title: $t, description: null}' --argjson id "$id" --arg t "$TAG null me"
	assert_equal "$(sql_movies "SELECT description IS NULL FROM movies WHERE id = $id")" t
}

@test "PUT /api/movies/:id: both fields at once" {
	local id
	id=$(create_titled "$TAG both")
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" \
		--data-binary "{\"title\":\"$TAG both2\",\"description\":\"d2\"}"
	assert_output 200
	jqb '. == {id: $id, title: $t, description: "d2"}' --argjson id "$id" --arg t "$TAG both2"
}

@test "PUT /api/movies/:id of a missing movie: 404 problem, nothing created" {
	local id
	id=$(create_titled "$TAG put gone")
	run -0 http DELETE "/api/movies/$id"
	assert_output 200
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary "{\"title\":\"$TAG ghost\"}"
	assert_output 404
	assert_problem 404
	assert_equal "$(sql_movies "SELECT count(*) FROM movies WHERE id = $id")" 0
	run -0 http PUT /api/movies/9223372036854775807 "${JSON[@]}" --data-binary '{"title":"x"}'
	assert_output 404
	assert_problem 404
}

@test "PUT /api/movies/:id with nothing to update: 400" {
	local id
	id=$(create_titled "$TAG nothing")
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary '{}'
	assert_output 400
	assert_problem 400
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary '{"year":1999}'
	assert_output 400
	assert_problem 400
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary '{"title":null}'
	assert_output 400
	assert_problem 400 title
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary '{"title":""}'
	assert_output 400
	assert_problem 400 title
	run -0 http GET "/api/movies/$id"
	assert_output 200
	jqb '.title == $t' --arg t "$TAG nothing"
}

@test "DELETE /api/movies/:id: 200 {deleted:1,id}, then 404" {
	local id
	id=$(create_titled "$TAG delete me")
	run -0 http DELETE "/api/movies/$id"
	assert_output 200
	[[ $(header Content-Type) == application/json* ]]
	jqb '. == {deleted: 1, id: $id}' --argjson id "$id"
	run -0 http DELETE "/api/movies/$id"
	assert_output 404
	assert_problem 404
	run -0 http GET "/api/movies/$id"
	assert_output 404
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
	[[ ${lines[0]} == "HTTP/1.0 200"* ]] || fail "status line: ${lines[0]}"
	# nothing follows the blank line that ends the head
	[[ $output == *$'\r\n\r\nEND' ]] || fail "a body after the head, or no end of head: $output"
	[[ $output == *$'\r\nContent-Length: '[1-9]* ]] || fail "no Content-Length: $output"
}

@test "HEAD /api/movies/:id: 200 without a body, 404 for a missing one" {
	local id
	id=$(create_titled "$TAG head item")
	run -0 raw_request "HEAD /api/movies/$id HTTP/1.0"$'\r\nHost: gateway\r\n\r\n'
	[[ ${lines[0]} == "HTTP/1.0 200"* ]] || fail "status line: ${lines[0]}"
	[[ $output == *$'\r\n\r\nEND' ]] || fail "a body after the head: $output"
	run -0 http HEAD /api/movies/9223372036854775807
	assert_output 404
}
