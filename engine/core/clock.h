/*
 * clock.h: time for the runtime. Monotonic microseconds for durations, wall
 * milliseconds for records people read.
 */
#ifndef OG_CLOCK_H
#define OG_CLOCK_H

#include <stdint.h>

int64_t og_clock_mono_us(void);
int64_t og_clock_wall_ms(void);
/* "2026-11-24T14:03:05.123Z" into buf (at least 32 bytes). */
const char *og_clock_iso8601(int64_t wall_ms, char *buf, int len);
/* The inverse for UTC times: "2026-11-24", "2026-11-24T14:03Z",
 * "2026-11-24T14:03:05Z", "...05.123Z" (a "Z", "+00:00" or nothing at the
 * end) -> epoch ms; -1 when malformed or another offset. */
int64_t og_clock_parse_iso8601(const char *s);
void og_clock_sleep_ms(int ms);

#endif
