#include "message_id.h"

#include <stdint.h>

#include "../common/hex.h"
#include "../common/token.h"

int message_id_valid(const char *s, size_t len)
{
	return token_valid(s, len, MESSAGE_ID_MAX);
}

int message_id_generate(char out[MESSAGE_ID_UUID_LEN + 1])
{
	static const size_t groups[] = { 4, 2, 2, 2, 6 };   /* bytes: 8-4-4-4-12 digits */
	uint8_t b[16];
	const uint8_t *in = b;

	if (token_random(b, sizeof(b)) != 0)
		return -1;
	b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);   /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);   /* RFC 4122 variant */
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		if (g > 0)
			*out++ = '-';
		hex_encode(in, groups[g], out);
		in += groups[g];
		out += 2 * groups[g];
	}
	*out = '\0';
	return 0;
}
