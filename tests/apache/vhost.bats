#!/usr/bin/env bats
# The vhost snippet (cgi-bin/apache-vhost.conf) through a private Apache with mod_fcgid,
# run by make test-apache with MOVIES_HTPASSWD defined: what it adds to the .htaccess
# variant (error documents for malformed requests, Basic authentication of writes) and
# what it keeps out of reach. APACHE_AUTH is the "user:password" the htpasswd file holds.
# shellcheck disable=SC2016 # jq filters name their own $variables
bats_require_minimum_version 1.5.0

load ../lib/helpers

setup() {
	common_setup
	TAG="v${BATS_TEST_NUMBER}x${RANDOM}${RANDOM}"
	JSON=(-H 'Content-Type: application/json')
}

@test "a malformed header is a 400 problem, not Apache's HTML page" {
	run -0 http GET /api/movies -H $'X-Bad: bell\x07'
	assert_output 400
	assert_problem 400
}

@test "writes to /api/movies need Basic authentication: 401 problem with a challenge" {
	local m
	for m in POST PUT DELETE; do
		run -0 http "$m" /api/movies/ "${JSON[@]}" --data-binary "{\"title\":\"$TAG\"}"
		assert_equal "$output $m" "401 $m"
		assert_problem 401
		assert_equal "$(header WWW-Authenticate)" 'Basic realm="movies API"'
	done
	run -0 http POST /api/movies "${JSON[@]}" -u "wrong:password" --data-binary "{\"title\":\"$TAG\"}"
	assert_output 401
	assert_equal "$(sql_movies "SELECT count(*) FROM movies WHERE title = '$TAG'")" 0
}

@test "with the password a write goes through; reads and orders stay open" {
	local id
	run -0 http POST /api/movies "${JSON[@]}" -u "$APACHE_AUTH" --data-binary "{\"title\":\"$TAG\"}"
	assert_output 201
	id=$(jq -r .id "$BATS_TEST_TMPDIR/body")
	run -0 http GET "/api/movies/$id"
	assert_output 200
	jqb '.title == $t' --arg t "$TAG"
	run -0 http DELETE "/api/movies/$id" -u "$APACHE_AUTH"
	assert_output 200
	run -0 http POST /api/billing "${JSON[@]}" \
		--data-binary '{"user_id": "41", "number_of_items": 1, "total_amount": "3"}'
	assert_output 200
	wait_for 15 order_count_is "$(message_id)" 1
}

@test "nothing but the API is served: settings, programs and error pages are 404" {
	local p
	for p in /.env /404.html /cgi-bin/movies /build/release/inventory_app /api/moviesXYZ; do
		run -0 http GET "$p"
		assert_equal "$output $p" "404 $p"
		assert_problem 404
	done
}
