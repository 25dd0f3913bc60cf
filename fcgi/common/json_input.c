#include "json_input.h"

#include <limits.h>

/* Request bodies are flat objects; 16 levels leaves room and stops stack-hungry input. */
#define JSON_MAX_DEPTH 16

/*
 * What json-c's strict mode still lets through: raw control characters inside strings.
 * Its own UTF-8 check also passes overlong forms and surrogates, so the whole text
 * is checked here first.
 */
static int raw_text_ok(const char *text, size_t len, const char **err)
{
	int in_string = 0;

	if (utf8_length(text, len) < 0) {
		*err = "the body is not valid UTF-8";
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (!in_string) {
			in_string = c == '"';
		} else if (c == '\\') {
			i++;                    /* the escaped character cannot end the string */
		} else if (c == '"') {
			in_string = 0;
		} else if (c < 0x20) {
			*err = "the body is not valid JSON: a control character inside a string";
			return 0;
		}
	}
	return 1;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?: json-c also takes NaN, Infinity and "1." */
static int json_number_ok(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* Every number in the tree, as written by the client, follows JSON's grammar. */
static int numbers_ok(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_double:
		return json_number_ok(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	case json_type_object: {
		json_object_object_foreach(o, key, child) {
			(void)key;
			if (!numbers_ok(child))
				return 0;
		}
		return 1;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!numbers_ok(json_object_array_get_idx(o, i)))
				return 0;
		return 1;
	default:
		return 1;
	}
}

json_object *json_parse_object(const char *text, size_t len, const char **err)
{
	json_tokener *tok;
	json_object *root;

	if (len == 0) {
		*err = "the body is empty; send a JSON object";
		return NULL;
	}
	if (len > INT_MAX) {
		*err = "the body is too large";
		return NULL;
	}
	if (!raw_text_ok(text, len, err))
		return NULL;
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (tok == NULL) {
		*err = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		if (e == json_tokener_error_parse_utf8_string)
			*err = "the body is not valid UTF-8";
		else if (e == json_tokener_error_depth)
			*err = "the body is nested too deeply";
		else
			*err = "the body is not valid JSON";
		json_object_put(root);
		json_tokener_free(tok);
		return NULL;
	}
	json_tokener_free(tok);
	if (!numbers_ok(root)) {
		json_object_put(root);
		*err = "the body is not valid JSON: a number is not written as JSON allows";
		return NULL;
	}
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		*err = "the body must be a JSON object";
		return NULL;
	}
	return root;
}

long utf8_length(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	long count = 0;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t need;
		unsigned long cp;

		if (c == 0)
			return -1;
		if (c < 0x80) {
			i++;
			count++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return -1;
		}
		if (len - i <= need)
			return -1;
		for (size_t k = 1; k <= need; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		/* overlong forms, UTF-16 surrogates and code points past U+10FFFF */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return -1;
		i += need + 1;
		count++;
	}
	return count;
}

const char *json_text(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}
