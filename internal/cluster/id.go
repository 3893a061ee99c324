package cluster

// MaxID is the length of the longest session ID the stores accept, the
// longest key Memcached itself would accept.
const MaxID = 250

// ValidID reports whether id could name a session: 1 to MaxID bytes,
// none of them a space, a control byte or DEL, as a Memcached key must
// be. The cluster stores a hash of the ID, not the ID, so this is not
// needed for safety; the stores use it to turn away what no store ever
// issued (gob data in a cookie of the same name, say) without a round
// trip.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] == 0x7f {
			return false
		}
	}
	return true
}
