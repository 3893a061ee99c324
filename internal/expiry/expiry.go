// Package expiry converts a session's expiry time into the exptime field
// of a Memcached storage command.
package expiry

import (
	"math"
	"time"
)

// MaxRelative is the longest TTL Memcached reads as relative seconds.
// A larger exptime is read as an absolute Unix time.
const MaxRelative = 30 * 24 * time.Hour

// Exptime returns the exptime that makes an item written at now expire at
// expiresAt, and false when the item must not be stored at all because
// expiresAt is less than a second away or already past.
//
// The answer is never 0, which Memcached reads as "never expire", and an
// item never expires before its session does: the TTL is rounded up to
// whole seconds, and a relative TTL gets one second more, because
// Memcached counts it from a clock that ticks once a second and so can
// lag the real time by up to a second. A TTL that fits in 30 days that
// way is sent as relative seconds, a longer one as a Unix time; Unix
// times past 2038, which do not fit the int32 that Memcached parses, are
// capped at math.MaxInt32.
func Exptime(expiresAt, now time.Time) (int32, bool) {
	ttl := expiresAt.Sub(now)
	if ttl < time.Second {
		return 0, false
	}

	secs := int64((ttl + time.Second - 1) / time.Second)
	if secs+1 <= int64(MaxRelative/time.Second) {
		return int32(secs + 1), true
	}
	return int32(min(now.Unix()+secs, math.MaxInt32)), true
}
