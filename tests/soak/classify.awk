# The soak's verdict on each request (tests/soak/report.sh runs it).
# Input: first the faults file (NAME START_US END_US), then the request lines
# (START_US END_US KIND STATUS CONTENT_TYPE KEY). Variables: start (the load's start,
# µs), grace (seconds a window outlasts its fault), windows ("NAME:KIND KIND;..."), and
# out (a folder). Each request is one of:
#   ok           the expected answer (hostile: any 4xx with a problem+json body)
#   explained    a 503 to a request of a window's kinds, overlapping that window
#   unexplained  any other 5xx, or no answer at all (000)
#   wrong        any other answer (a hostile body accepted, a 404 for a seeded movie...)
# Prints "ok N", "explained N", "unexplained N", "wrong N", and lists the last two,
# with their time since the start, in out/unexplained and out/wrong. Also writes
# out/kinds, "KIND MADE OK" for each kind (every hostile case counts as "hostile"), and
# out/fault-requests, "N COUNT": how many requests overlapped the window of the faults
# file's Nth fault (from its start to grace seconds after its end), whatever their kinds.
BEGIN {
	n = split(windows, w, ";")
	for (i = 1; i <= n; i++) {
		split(w[i], nk, ":")
		covers[nk[1]] = " " nk[2] " "
	}
	expected["read"] = expected["list"] = expected["put"] = expected["delete"] = 200
	expected["billing"] = 200
	expected["post"] = 201
	split("ok explained unexplained wrong", verdicts, " ")
}

FILENAME == ARGV[1] {
	nf++
	fname[nf] = $1; fbegin[nf] = $2; fend[nf] = $3 + grace * 1e6
	next
}

function in_window(kind, s, e,    i) {
	for (i = 1; i <= nf; i++)
		if (index(covers[fname[i]], " " kind " ") && s <= fend[i] && e >= fbegin[i])
			return 1
	return 0
}

function answered_as_expected(kind, status, ctype) {
	if (kind ~ /^hostile:/)
		return status ~ /^4/ && ctype ~ /^application\/problem\+json/
	return status == expected[kind]
}

{
	kind = $3
	sub(/:.*/, "", kind)
	made[kind]++
	for (i = 1; i <= nf; i++)
		if ($1 <= fend[i] && $2 >= fbegin[i])
			during[i]++
	if (answered_as_expected($3, $4, $5))
		v = "ok"
	else if ($4 == 503 && in_window($3, $1, $2))
		v = "explained"
	else if ($4 ~ /^(5|000)/)
		v = "unexplained"
	else
		v = "wrong"
	count[v]++
	if (v == "ok")
		ok[kind]++
	if (v == "unexplained" || v == "wrong")
		printf "t=%.1f s  %s answered %s (%s) after %.2f s  key %s\n",
			($1 - start) / 1e6, $3, $4, $5, ($2 - $1) / 1e6, $6 > (out "/" v)
}

END {
	for (i = 1; i <= 4; i++)
		print verdicts[i], count[verdicts[i]] + 0
	printf "" > (out "/kinds")
	for (k in made)
		print k, made[k], ok[k] + 0 > (out "/kinds")
	printf "" > (out "/fault-requests")
	for (i = 1; i <= nf; i++)
		print i, during[i] + 0 > (out "/fault-requests")
}
