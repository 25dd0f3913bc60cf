# shellcheck shell=bash
# Sourced by soak.sh: the hostile requests. Each must be answered 4xx with an
# application/problem+json body, never 5xx, whatever the platform is going through.
# A case is two files under $SOAK_DIR/hostile: NAME.request ("METHOD PATH CONTENT-TYPE")
# and NAME.body (the bytes sent), written once before the run.

# shellcheck disable=SC2034 # read by load.sh and soak.sh
HOSTILE_CASES=(
	malformed_json trailing_garbage not_an_object empty_body wrong_type_title
	wrong_type_order huge_items huge_exponent huge_user_id leading_zero raw_control_char
	nul_byte invalid_utf8 deep_nesting many_members oversize_movie oversize_order
	wrong_content_type control_char_put
)

# hostile_case NAME METHOD PATH [CONTENT-TYPE]: writes NAME's request line; its body is
# what comes on stdin.
hostile_case() {
	echo "$2 $3 ${4:-application/json}" >"$SOAK_DIR/hostile/$1.request"
	cat >"$SOAK_DIR/hostile/$1.body"
}

# repeat N TEXT: TEXT N times.
repeat() { printf "%${1}s" '' | sed "s/ /$2/g"; }

# order_with NAME FIELD JSON-VALUE: an otherwise valid order whose FIELD is that value.
order_with() {
	jq -cn --arg f "$2" --argjson v "$3" \
		'{user_id: "soak", number_of_items: 1, total_amount: "1.00"} | .[$f] = $v' |
		hostile_case "$1" POST /api/billing
}

# hostile_prepare SEEDED_ID: writes every case (a PUT goes to that movie, which is left
# as it is).
hostile_prepare() {
	local limit=$((${REQUEST_BODY_MAX_KB:-64} * 1024))
	mkdir -p "$SOAK_DIR/hostile"
	printf '{"title": "cut short",' | hostile_case malformed_json POST /api/movies
	printf '{"title": "x"} {"title": "y"}' | hostile_case trailing_garbage POST /api/movies
	printf '["title", "x"]' | hostile_case not_an_object POST /api/movies
	hostile_case empty_body POST /api/movies </dev/null
	printf '{"title": 42, "description": ["x"]}' | hostile_case wrong_type_title POST /api/movies
	printf '{"user_id": true, "number_of_items": [], "total_amount": {}}' |
		hostile_case wrong_type_order POST /api/billing
	order_with huge_items number_of_items 99999999999999999999999999
	order_with huge_exponent number_of_items '1e999999'
	order_with huge_user_id user_id 99999999999999999999
	printf '{"user_id": "soak", "number_of_items": 01, "total_amount": "1.00"}' |
		hostile_case leading_zero POST /api/billing
	printf '{"title": "bell\a and escape\033[31m"}' | hostile_case raw_control_char POST /api/movies
	printf '{"title": "nul\0byte"}' | hostile_case nul_byte POST /api/movies
	printf '{"title": "not \xff\xfe utf-8"}' | hostile_case invalid_utf8 POST /api/movies
	{ printf '{"title": "deep", "x": '; repeat 20000 '['; repeat 20000 ']'; printf '}'; } |
		hostile_case deep_nesting POST /api/movies
	# A body under the size limit whose tree is large: the shape, not the size.
	{ printf '{"title": 1, "a": ['; repeat $((limit / 3 - 20)) '{},'; printf '{}]}'; } |
		hostile_case many_members POST /api/movies
	{ printf '{"title": "'; head -c $((limit + 1024)) /dev/zero | tr '\0' x; printf '"}'; } |
		hostile_case oversize_movie POST /api/movies
	{ printf '{"user_id": "'; head -c $((limit + 1024)) /dev/zero | tr '\0' 7; printf '", "number_of_items": 1, "total_amount": "1.00"}'; } |
		hostile_case oversize_order POST /api/billing
	printf '{"title": "sent as text"}' | hostile_case wrong_content_type POST /api/movies text/plain
	printf '{"title": "tab\there"}' | hostile_case control_char_put PUT "/api/movies/$1"
}
