// Package gorillastore keeps gorilla/sessions sessions in a Memcached
// cluster, so that any app server behind a load balancer can serve any
// request without sticky sessions.
//
// # The one-line swap
//
// An app that keeps its sessions in cookies changes the line that makes
// its store, and nothing else:
//
//	store := sessions.NewCookieStore(key)
//
// becomes
//
//	servers := []string{"10.0.0.1:11211", "10.0.0.2:11211"}
//	store := gorillastore.New(servers, key)
//
// Handlers keep calling store.Get, session.Save and sessions.Save(r, w);
// flashes and Options work as before. The key pairs follow the same
// convention as sessions.NewCookieStore, and may be rotated the same way.
// Use NewStore with a Config for replicas, a key prefix, timeouts and the
// default TTL; New panics on a bad server list, NewStore returns the
// error.
//
// Cookies set by the CookieStore hold the values themselves, not an ID,
// so they do not decode after the swap: each user starts one new session,
// and Get returns securecookie's error for that request, as it does for
// any cookie it cannot read.
//
// The default Options are Path "/", a MaxAge of 30 days, Secure,
// HttpOnly and SameSite=Lax: the cookie is sent only over HTTPS, is
// hidden from scripts, and is left out of cross-site subrequests and
// POSTs. sessions.NewCookieStore in gorilla/sessions v1.4 also sets
// Secure, but SameSite=None and not HttpOnly; set Store.Options to match
// if your app needs the cookie in cross-site requests. Set Secure to
// false only for plain-HTTP development servers, where browsers would
// otherwise drop the cookie.
//
// # What is stored where
//
// The cookie carries only a random 32-byte session ID, signed, and
// encrypted when the key pair has an encryption key, by securecookie.
// The values live in Memcached under a key made from a hash of the ID,
// so the IDs never appear on the Memcached nodes. Values are encoded by
// Store.Serializer: GobSerializer by default (register your own types
// with gob.Register, as with any gorilla store); CompactSerializer, about
// ten times cheaper than gob for sessions of strings, numbers, byte
// slices and times, and gob for the rest; or JSONSerializer.
//
// # Lifetime
//
// A session's Options.MaxAge decides how long it lives:
//
//   - MaxAge > 0: the cookie gets that Max-Age and Memcached keeps the
//     session for as many seconds, so both end together.
//   - MaxAge == 0: the cookie is a browser-session cookie, without
//     Max-Age or Expires, and Memcached keeps the session for
//     Config.DefaultTTL (24 hours unless set).
//   - MaxAge < 0: Save deletes the session from Memcached and expires the
//     cookie. This is how to log a user out.
//
// Every Save renews the session's lifetime. Memcached may still evict a
// session early when it runs out of memory; the next request then gets a
// new session, as if the session had expired.
//
// # Logging in
//
// Call Store.RenewID before saving the session of a user who just logged
// in. It deletes the session stored under the old ID and gives the
// session a new one, so an ID that an attacker planted in the browser
// before login is useless after it.
//
// # Errors
//
// As with sessions.CookieStore, Get and New always return a usable
// session, and IsNew tells whether it was loaded. A missing, expired or
// evicted session is not an error. A cookie that does not decode gives
// securecookie's error. A failure of the cluster (ErrUnavailable,
// ErrServer, ErrCorrupt) or stored values that no longer decode give a
// new, empty session and the error, never an emptied session that looks
// loaded.
//
// Save returns ErrTooLarge for a session above the nodes' item size
// limit, the serializer's error for values it cannot encode, and the
// cluster's error when no node took the write; in each case it sets no
// cookie and the stored session is unchanged. A logout (MaxAge < 0)
// whose delete did not reach the session's node fails, even when Get had
// failed to load the session, so the app can tell that the session may
// still be live. Match errors with errors.Is and the sentinels of this
// package; a *NodeError names the node.
package gorillastore
