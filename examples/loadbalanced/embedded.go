package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// embeddedServer is a small in-process server speaking the part of
// Memcached's text protocol the stores use (get, gets, set, add, cas,
// delete, version), for machines without memcached. It keeps items in a
// map with no memory limit and no LRU, and it is not Memcached: nothing
// run against it counts as a test of the stores.
//
// github.com/daangn/minimemcached was the first choice, but v1.2.1 reads a
// value up to its first newline byte, so it rejects the binary values the
// stores write ("CLIENT_ERROR bad data chunk").
type embeddedServer struct {
	ln net.Listener

	mu    sync.Mutex
	items map[string]embeddedItem
	cas   uint64
	conns map[net.Conn]bool
}

type embeddedItem struct {
	value   []byte
	flags   uint32
	cas     uint64
	expires time.Time // zero: never
}

// startEmbedded listens on addr ("127.0.0.1:0" for any port) and serves
// until close.
func startEmbedded(addr string) (*embeddedServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &embeddedServer{ln: ln, items: map[string]embeddedItem{},
		conns: map[net.Conn]bool{}}
	go s.serve()
	return s, nil
}

func (s *embeddedServer) addr() string { return s.ln.Addr().String() }

// close stops listening and drops every connection and item, as a killed
// process would.
func (s *embeddedServer) close() {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
	s.items = map[string]embeddedItem{}
}

func (s *embeddedServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *embeddedServer) serveConn(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()

	rw := bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c))
	for {
		line, err := rw.ReadString('\n')
		if err != nil {
			return
		}
		if err := s.command(rw, strings.Fields(line)); err != nil {
			return
		}
		if rw.Flush() != nil {
			return
		}
	}
}

// command answers one request line; an error ends the connection.
func (s *embeddedServer) command(rw *bufio.ReadWriter, f []string) error {
	if len(f) == 0 {
		rw.WriteString("ERROR\r\n")
		return nil
	}
	switch f[0] {
	case "get", "gets":
		s.get(rw, f[1:], f[0] == "gets")
	case "set", "add", "cas":
		return s.store(rw, f)
	case "delete":
		rw.WriteString(s.delete(f))
	case "version":
		rw.WriteString("VERSION embedded\r\n")
	default:
		rw.WriteString("ERROR\r\n")
	}
	return nil
}

func (s *embeddedServer) get(w io.Writer, keys []string, withCAS bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		it, ok := s.live(k)
		if !ok {
			continue
		}
		fmt.Fprintf(w, "VALUE %s %d %d", k, it.flags, len(it.value))
		if withCAS {
			fmt.Fprintf(w, " %d", it.cas)
		}
		fmt.Fprintf(w, "\r\n%s\r\n", it.value)
	}
	io.WriteString(w, "END\r\n")
}

// live returns the unexpired item under k. s.mu is held.
func (s *embeddedServer) live(k string) (embeddedItem, bool) {
	it, ok := s.items[k]
	if ok && !it.expires.IsZero() && time.Now().After(it.expires) {
		delete(s.items, k)
		return it, false
	}
	return it, ok
}

// store handles "set|add|cas key flags exptime bytes [cas]".
func (s *embeddedServer) store(rw *bufio.ReadWriter, f []string) error {
	if len(f) < 5 || (f[0] == "cas" && len(f) < 6) {
		rw.WriteString("CLIENT_ERROR bad command line format\r\n")
		return nil
	}
	flags, _ := strconv.ParseUint(f[2], 10, 32)
	exptime, _ := strconv.ParseInt(f[3], 10, 64)
	n, err := strconv.Atoi(f[4])
	if err != nil || n < 0 {
		rw.WriteString("CLIENT_ERROR bad data chunk\r\n")
		return nil
	}
	data := make([]byte, n+2)
	if _, err := io.ReadFull(rw, data); err != nil {
		return err
	}
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		rw.WriteString("CLIENT_ERROR bad data chunk\r\n")
		return nil
	}

	it := embeddedItem{value: data[:n], flags: uint32(flags),
		expires: expiresAt(exptime)}
	var want uint64
	if f[0] == "cas" {
		want, _ = strconv.ParseUint(f[5], 10, 64)
	}
	rw.WriteString(s.put(f[0], f[1], it, want))
	return nil
}

func (s *embeddedServer) put(verb, k string, it embeddedItem,
	wantCAS uint64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, exists := s.live(k)
	switch {
	case verb == "add" && exists:
		return "NOT_STORED\r\n"
	case verb == "cas" && !exists:
		return "NOT_FOUND\r\n"
	case verb == "cas" && old.cas != wantCAS:
		return "EXISTS\r\n"
	}
	s.cas++
	it.cas = s.cas
	s.items[k] = it
	return "STORED\r\n"
}

func (s *embeddedServer) delete(f []string) string {
	if len(f) < 2 {
		return "ERROR\r\n"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.live(f[1]); !ok {
		return "NOT_FOUND\r\n"
	}
	delete(s.items, f[1])
	return "DELETED\r\n"
}

// expiresAt reads an exptime as Memcached does: 0 never, up to 30 days
// relative, beyond that a Unix time; negative is already expired.
func expiresAt(exptime int64) time.Time {
	switch {
	case exptime == 0:
		return time.Time{}
	case exptime < 0:
		return time.Unix(1, 0)
	case exptime <= 30*24*3600:
		return time.Now().Add(time.Duration(exptime) * time.Second)
	}
	return time.Unix(exptime, 0)
}
