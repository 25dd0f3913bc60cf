/* UTF-8 text as clients send it: validity, length in characters, and whether a person can see it. */
#ifndef COMMON_UTF8_H
#define COMMON_UTF8_H

#include <stddef.h>

/*
 * Decodes the code point at s[*i] (i < len) and advances *i past it. Returns the code
 * point, or -1 for NUL, invalid UTF-8, an overlong form, a surrogate or a value past
 * U+10FFFF (then *i is unchanged).
 */
long utf8_next(const char *s, size_t len, size_t *i);

/* The number of code points in s[0..len), or -1 when it is not valid UTF-8 or holds NUL. */
long utf8_length(const char *s, size_t len);

/*
 * Whether s[0..len) is text a person can read, such as a name: 1 when it is valid UTF-8
 * without control characters (C0, DEL, C1) and holds at least one character that is
 * neither white space nor invisible (Unicode's White_Space and Default_Ignorable_Code_Point);
 * 0 when it is only such blanks (or empty); -1 when it is invalid or holds a control.
 */
int utf8_visible_text(const char *s, size_t len);

#endif
