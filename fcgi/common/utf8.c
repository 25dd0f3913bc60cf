#include "utf8.h"

long utf8_next(const char *s, size_t len, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t left = len - *i, need;
	unsigned long cp;

	if (p[0] == 0)
		return -1;
	if (p[0] < 0x80) {
		*i += 1;
		return p[0];
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		need = 1;
		cp = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		need = 2;
		cp = p[0] & 0x0F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		need = 3;
		cp = p[0] & 0x07;
	} else {
		return -1;
	}
	if (left <= need)
		return -1;
	for (size_t k = 1; k <= need; k++) {
		if ((p[k] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[k] & 0x3F);
	}
	/* overlong forms, UTF-16 surrogates and code points past U+10FFFF */
	if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return -1;
	*i += need + 1;
	return (long)cp;
}

long utf8_length(const char *s, size_t len)
{
	long count = 0;

	for (size_t i = 0; i < len; count++)
		if (utf8_next(s, len, &i) < 0)
			return -1;
	return count;
}

static int is_control(long cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Unicode 15's White_Space and Default_Ignorable_Code_Point, as ranges (controls excepted). */
static int is_blank(long cp)
{
	static const long ranges[][2] = {
		{ 0x0020, 0x0020 }, { 0x00A0, 0x00A0 }, { 0x00AD, 0x00AD },
		{ 0x034F, 0x034F }, { 0x061C, 0x061C }, { 0x115F, 0x1160 },
		{ 0x1680, 0x1680 }, { 0x17B4, 0x17B5 }, { 0x180B, 0x180F },
		{ 0x2000, 0x200F }, { 0x2028, 0x202F }, { 0x205F, 0x206F },
		{ 0x3000, 0x3000 }, { 0x3164, 0x3164 }, { 0xFE00, 0xFE0F },
		{ 0xFEFF, 0xFEFF }, { 0xFFA0, 0xFFA0 }, { 0xFFF0, 0xFFF8 },
		{ 0x1BCA0, 0x1BCA3 }, { 0x1D173, 0x1D17A }, { 0xE0000, 0xE0FFF },
	};

	for (size_t k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++)
		if (cp >= ranges[k][0] && cp <= ranges[k][1])
			return 1;
	return 0;
}

int utf8_visible_text(const char *s, size_t len)
{
	int visible = 0;

	for (size_t i = 0; i < len;) {
		long cp = utf8_next(s, len, &i);

		if (cp < 0 || is_control(cp))
			return -1;
		if (!is_blank(cp))
			visible = 1;
	}
	return visible;
}
