#!/usr/bin/env bats
# The API page and the spec as HTTP resources: what the gateway serves under /api/docs and
# /api/openapi.yaml, with which headers, and that nothing else of the tree is reachable.
# The page itself in a browser: api_page.js, beside this file.
bats_require_minimum_version 1.5.0

load ../lib/helpers

setup() {
	common_setup
}

# assert_static TYPE: the last response is 200 with Content-Type TYPE, nosniff and a CSP.
assert_static() {
	assert_equal "$(header Content-Type)" "$1"
	assert_equal "$(header X-Content-Type-Options)" nosniff
	[[ $(header Content-Security-Policy) == *"script-src 'self';"* ]] ||
		fail "no script-src 'self' in the CSP: $(header Content-Security-Policy)"
}

# assert_not_served PATH: the gateway answers PATH (sent as is) with a problem+json 400 or 404.
assert_not_served() {
	run -0 http GET "$1" --path-as-is
	[[ $output == 400 || $output == 404 ]] || fail "$1 answered $output: $(head -c 200 "$BATS_TEST_TMPDIR/body")"
	[[ $(header Content-Type) == application/problem+json* ]] ||
		fail "$1: Content-Type '$(header Content-Type)'"
	jq -e --argjson s "$output" '.status == $s' "$BATS_TEST_TMPDIR/body" >/dev/null ||
		fail "$1: body $(head -c 200 "$BATS_TEST_TMPDIR/body")"
}

@test "GET /api/docs, /api/docs/ and /api/docs/index.html: the page, revalidated" {
	local path
	for path in /api/docs /api/docs/ /api/docs/index.html; do
		run -0 http GET "$path"
		assert_equal "$output $path" "200 $path"
		assert_static 'text/html; charset=utf-8'
		assert_equal "$(header Cache-Control)" no-cache
		[ -n "$(header ETag)" ]
		grep -q 'src="/api/docs/swagger-initializer.js"' "$BATS_TEST_TMPDIR/body"
	done
	run -0 http HEAD /api/docs/
	assert_output 200
	assert_equal "$(header Content-Type)" 'text/html; charset=utf-8'
}

@test "the page has no inline script, and its CSP forbids one" {
	run -0 http GET /api/docs/
	assert_output 200
	# the page does load its scripts, from files
	grep -q '<script src="/api/docs/swagger-initializer.js"' "$BATS_TEST_TMPDIR/body"
	run grep -E '<script>|<script [^>]*>[^<[:space:]]|on[a-z]+=' "$BATS_TEST_TMPDIR/body"
	assert_failure
	local csp
	csp=$(header Content-Security-Policy | tr ';' '\n' | sed 's/^ *//')
	assert_equal "$(grep '^script-src' <<<"$csp")" "script-src 'self'"
	assert_equal "$(grep '^default-src' <<<"$csp")" "default-src 'none'"
	[[ $csp != *unsafe-eval* ]]
}

@test "Swagger UI's files: right media types, cached for a day" {
	local file type
	while read -r file type; do
		run -0 http GET "/api/docs/$file"
		assert_equal "$output $file" "200 $file"
		assert_static "$type"
		assert_equal "$(header Cache-Control)" 'public, max-age=86400'
		cmp -s "$BATS_TEST_TMPDIR/body" "$PROJECT_ROOT/scripts/node_modules/swagger-ui-dist/$file" ||
			fail "$file differs from the installed swagger-ui-dist"
	done <<-'EOF'
		swagger-ui-bundle.js text/javascript; charset=utf-8
		swagger-ui.css text/css; charset=utf-8
		index.css text/css; charset=utf-8
		favicon-32x32.png image/png
		favicon-16x16.png image/png
	EOF
}

@test "swagger-initializer.js is the project's own, revalidated" {
	run -0 http GET /api/docs/swagger-initializer.js
	assert_output 200
	assert_static 'text/javascript; charset=utf-8'
	assert_equal "$(header Cache-Control)" no-cache
	cmp "$BATS_TEST_TMPDIR/body" "$PROJECT_ROOT/scripts/gateway/api-docs/swagger-initializer.js"
}

@test "GET /api/openapi.yaml: the spec itself, as application/yaml" {
	run -0 http GET /api/openapi.yaml
	assert_output 200
	assert_static 'application/yaml; charset=utf-8'
	cmp "$BATS_TEST_TMPDIR/body" "$PROJECT_ROOT/docs/openapi.yaml"
}

@test "methods other than GET and HEAD on the page and the spec: 403 problem+json" {
	local method path
	for path in /api/docs/ /api/openapi.yaml; do
		for method in POST PUT DELETE PATCH OPTIONS; do
			run -0 http "$method" "$path" -H 'Content-Type: application/json' --data-binary '{}'
			assert_equal "$output $method $path" "403 $method $path"
			[[ $(header Content-Type) == application/problem+json* ]]
		done
	done
}

@test "other files of swagger-ui-dist and of the page's folder are 404 problem+json" {
	local path
	for path in /api/docs/swagger-ui-bundle.js.map /api/docs/swagger-ui.css.map \
		/api/docs/package.json /api/docs/index.js /api/docs/oauth2-redirect.html \
		/api/docs/swagger-ui-standalone-preset.js /api/docs/LICENSE /api/docs/nope \
		/api/docs/swagger-ui.css/ /api/docs/index.html/x /api/openapi.yaml/ \
		/api/openapi.json /api/docsx /api/openapi.yml /docs/openapi.yaml; do
		assert_not_served "$path"
	done
}

@test "dot segments and encoded slashes never leave /api/docs: 400 or 404" {
	local path
	for path in /api/docs/../../.env /api/docs/../../../.env /api/docs/../../lighttpd.conf \
		/api/docs/%2e%2e/%2e%2e/.env /api/docs/%2E%2E/%2E%2E/.env /api/docs/..%2f..%2f.env \
		/api/docs/%2e%2e%2f%2e%2e%2f.env /api/docs%2f..%2f..%2f.env \
		/api/docs/..%5c..%5c.env /api/docs/swagger-ui.css%2f..%2f..%2f..%2f..%2f.env \
		/api/docs/../package.json /api/docs/..%2fpackage.json /api/docs/%2e%2e/package.json \
		/api/docs/../openapi.yaml/../../.env /api/docs/%00 /api/docs/index.html%00.js \
		/api/docs/....//....//.env /.env /lighttpd.conf /scripts/gateway/api-docs/index.html; do
		assert_not_served "$path"
	done
}

@test "a 404 under /api/docs keeps the gateway's problem+json body" {
	run -0 http GET /api/docs/missing.html
	assert_output 404
	assert_equal "$(body)" "$(cat "$PROJECT_ROOT/scripts/gateway/errors/404.html")"
	assert_equal "$(header Content-Type)" application/problem+json
}
