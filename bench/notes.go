package main

// allocNotes says what the sources in the allocation table are, and so
// where each allocation of our stores above the floor's comes from. The
// counts are those of the runs when it was written; the table above has
// this run's.
const allocNotes = `What the sources are. The floor's ~8 allocations are
gomemcache's own: the item, its value and the reply. Above them:

- **encoding/gob**, about 200 per request and most of the bytes, in the
  rows that encode values with gob: gorillastore's GobSerializer, and for
  scsstore not the store at all but scs's own codec (scs.GobCodec), which
  every scs store pays alike. A fresh gob decoder must read and compile
  the type descriptors of the session's map before it can decode a value,
  and that, not the value, is most of gob's cost. The compact encoding
  (CompactSerializer, CompactCodec) takes about 5: a buffer for the
  encoding, a copy of each []byte and string decoded, and the map.
- **securecookie**, about 25 per request for gorillastore: base64,
  HMAC-SHA256 and the time stamp, to check the cookie and to sign the new
  one on Save. The ID goes in as bytes, without securecookie's default
  gob encoding of its value, which cost another 30. Every gorilla store
  pays for securecookie; redistore also gob-encodes its ID.
- **gorilla/sessions** and **net/http**, about 13: the request's session
  registry (a context value, so a copy of the http.Request), the Session
  and its Options, parsing the Cookie header, formatting Set-Cookie. The
  same for every gorilla store. **scs (SessionManager)**, 7 to 13: the
  session data, its context and the token. The same for every scs store.
- **mcsession's own layer**, 5 per request for scsstore (the rows named
  after our functions): the item key of the load and of the save (one
  allocation each, the SHA-256 of the ID in base64 behind the prefix),
  the buffer that puts the 18-byte envelope header in front of the value
  (one copy of the session), and the memcache.Item that gomemcache's Set
  takes. gorillastore adds about 6: the session's copied Options, the
  cookie's ID as bytes and as a string, and the new cookie.
- **bench harness**: the http.Request, its Header, the ResponseRecorder
  and the carried cookie for gorilla (about 10), the context and token for
  scs (about 2 to 6), and the benchmark's bookkeeping. Not the stores'.`
