package cluster

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bradfitz/gomemcache/memcache"
)

// Errors returned by the cluster, usually wrapped in a *NodeError that
// names the node. Match them with errors.Is.
var (
	// ErrTooLarge means a session is larger than the node's item size
	// limit (memcached -I). Nothing was written and the stored session
	// is unchanged.
	ErrTooLarge = errors.New("mcsession: session too large for memcached")

	// ErrServer means a node answered with an error of its own, for
	// example SERVER_ERROR when it is out of memory.
	ErrServer = errors.New("mcsession: memcached server error")

	// ErrUnavailable means a node could not be reached in time, or no
	// node was left to try.
	ErrUnavailable = errors.New("mcsession: memcached node unavailable")
)

// NodeError is an error about one node. It matches its Kind (ErrTooLarge,
// ErrServer, ErrUnavailable or ErrCorrupt) with errors.Is, and its cause
// with errors.As.
type NodeError struct {
	Addr string // the node, as given in Config.Servers
	Op   string // "get", "set", "delete", ...
	Kind error  // ErrTooLarge, ErrServer, ErrUnavailable or ErrCorrupt
	Err  error  // the cause, if any
}

// Error says what failed, on which node, and why.
func (e *NodeError) Error() string {
	kind := strings.TrimPrefix(e.Kind.Error(), "mcsession: ")
	msg := fmt.Sprintf("mcsession: %s on %s: %s", e.Op, e.Addr, kind)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the kind and the cause.
func (e *NodeError) Unwrap() []error { return []error{e.Kind, e.Err} }

// classify maps what gomemcache returned for an operation on addr to the
// cluster's answer: nil for success and for replies that are outcomes
// rather than failures (miss, not stored, CAS conflict), a *NodeError
// otherwise. gomemcache reports SERVER_ERROR replies only as formatted
// text, so this is the one place that reads that text.
func classify(addr, op string, err error) error {
	switch {
	case err == nil, errors.Is(err, memcache.ErrCacheMiss),
		errors.Is(err, memcache.ErrNotStored),
		errors.Is(err, memcache.ErrCASConflict):
		return nil
	case strings.Contains(err.Error(), "SERVER_ERROR object too large"):
		return &NodeError{Addr: addr, Op: op, Kind: ErrTooLarge}
	case strings.Contains(err.Error(), "SERVER_ERROR"),
		strings.Contains(err.Error(), "CLIENT_ERROR"):
		return &NodeError{Addr: addr, Op: op, Kind: ErrServer, Err: err}
	}
	return &NodeError{Addr: addr, Op: op, Kind: ErrUnavailable, Err: err}
}

// nodeDown reports whether err counts against a node's health.
func nodeDown(err error) bool { return errors.Is(err, ErrUnavailable) }
