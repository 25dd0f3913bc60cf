/* Configuration comes from the environment, read once at start-up. */
#ifndef COMMON_ENV_H
#define COMMON_ENV_H

/* The variable's value, or def when it is unset or empty. */
const char *env_str(const char *name, const char *def);
/* The variable's value; when it is unset or empty the program stops, naming it. */
const char *env_require(const char *name);
/* An integer in [min, max]; anything else stops the program with a message naming the variable. */
long env_long(const char *name, long def, long min, long max);

#endif
