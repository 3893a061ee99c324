package main

// allocNotes says what the sources in the allocation table are, and so
// where each allocation of our stores above the floor's comes from. The
// counts are those of the runs when it was written; the table above has
// this run's.
const allocNotes = `What the sources are. The floor's ~8 allocations are
gomemcache's own: the item, its value and the reply. Above them:

- **encoding/gob**, about 200 per request for both stores, two thirds of
  gorillastore's and four fifths of scsstore's. For gorillastore it is its
  default GobSerializer; for scsstore it is not the store at all but scs's
  SessionManager codec (scs.GobCodec), which every scs store pays alike.
  Both make a fresh gob encoder and decoder per session, and a fresh
  decoder must read and compile the type descriptors of
  map[interface{}]interface{} (or the struct scs wraps its values in) before
  it can decode a value: most of gob's allocations, and most of its CPU
  time, go to that, not to the value. gorilla's own stores and redistore do
  the same.
- **securecookie**, about 55 per request for gorillastore: checking the
  cookie (base64, HMAC-SHA256, its time stamp, and a gob decoder for the ID
  string) and signing the new one on Save. Every gorilla store pays it;
  CookieStore pays it over the whole session instead of the ID.
- **gorilla/sessions** and **net/http**, about 13: the request's session
  registry (a context value, so a copy of the http.Request), the Session
  and its Options, parsing the Cookie header, formatting Set-Cookie. The
  same for every gorilla store. **scs (SessionManager)**, about 13: the
  session data, its context and the token. The same for every scs store.
- **mcsession's own layer**, about 17 per request for either store
  (the rows named after our functions): the item key, made twice per
  request (Key: SHA-256 of the ID, []byte and string conversions, 3 each
  time); ring.Hash's []byte(key) for each of 3 ring lookups; the replica
  and node slices of fetch and write; the node address boxed into a
  net.Addr by PickServer for each round trip; and one buffer the size of
  the session in encode, to put the 18-byte envelope header in front of
  the value. gorillastore's own functions add about 5: the copied Options,
  a bytes.Buffer per serializer call, the cookie's ID.
- **bench harness**: the http.Request, its Header, the ResponseRecorder
  and the carried cookie for gorilla (about 13), the context and token for
  scs (about 7), and the benchmark's bookkeeping. Not the stores'.`
