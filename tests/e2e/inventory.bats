#!/usr/bin/env bats
# The inventory API end to end: curl -> lighttpd gateway -> inventory_app -> PostgreSQL:
# listing, creating, reading, updating and deleting movies.
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
