// Package scsstore keeps the sessions of an scs (github.com/alexedwards/scs/v2)
// application in a Memcached cluster, so that every app server behind a
// load balancer sees the same sessions without sticky routing.
//
// # Use
//
// Point the session manager's Store at the cluster, once, at start-up:
//
//	sessionManager := scs.New()
//	sessionManager.Store = scsstore.New("10.0.0.1:11211", "10.0.0.2:11211")
//
// Everything else an application does with scs works as before: Put, Get,
// Pop, RenewToken, Destroy, Lifetime, IdleTimeout, HashTokenInStore and a
// Codec of its own. Every app server must list the same servers (their
// order does not matter), and should use the same Config, so that they
// agree on where each session lives.
//
// New panics on an invalid server list, which is a programming error.
// NewStore takes a full Config (replication, timeouts, key prefix, health
// checks, logging) and returns the error instead. A Config with only
// Servers set is a good production configuration.
//
// With Config.Replicas above 1, each session is written to that many
// nodes and survives all but one of them going down; a deleted session
// stays deleted when a node that missed the delete comes back.
//
// # Tokens and keys
//
// The store gets opaque tokens from scs and never sends one to Memcached:
// each session lives under the configured prefix followed by the SHA-256
// of its token, so a reader of the server's keys learns no live session.
// A token that could not be a Memcached key (empty, longer than 250 bytes,
// or holding spaces or control bytes) cannot have come from scs, and is
// answered "not found" without asking any server; scs then starts a fresh
// session, as it does for any unknown token.
//
// # Expiry
//
// Each session is stored with the expiry scs gives it, from Lifetime or
// IdleTimeout, and Memcached drops it then. Memcached's clock ticks in
// whole seconds, so a session is dropped within about a second of its
// expiry, either side. An expiry less than a second away deletes the
// session instead of storing it. Expiries beyond 30 days, which Memcached
// reads differently, are handled.
//
// # Errors
//
// A missing, expired, malformed or tampered token, and an item that is not
// a session written by this package, are "not found" with a nil error, as
// scs requires. Errors are kept for failures of the system: a node that
// cannot be reached (ErrUnavailable), a session larger than the server's
// item size limit (ErrTooLarge) and a server that answers with an error
// (ErrServer). They are usually a *NodeError naming the node; match them
// with errors.Is and errors.As.
//
// # Listing sessions
//
// Store does not implement scs.IterableStore, so sessionManager.Iterate
// cannot be used: Memcached has no way to enumerate the keys it holds.
// An application that needs to list or revoke all of a user's sessions
// should keep its own index in its database: record the token the store
// is given (the hash scs computes, with HashTokenInStore) when the user
// logs in, and pass the recorded tokens to Store.Delete to revoke them.
package scsstore
