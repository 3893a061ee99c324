package cluster

import "net"

// maxKeptBuffer is the largest write buffer a connection keeps between
// requests; a larger one, left by a large session, is let go.
const maxKeptBuffer = 64 << 10

// batchConn holds what is written to a node until the reply is read,
// then sends it in one write. gomemcache writes through a 4 KiB buffer,
// so it sends a set of a 4 KiB session in two writes and one of 64 KiB
// in seventeen: each a system call here and a wake-up of memcached
// there. gomemcache reads a reply after every command it sends, so
// nothing waits in the buffer past the command's own round trip, and a
// failed write is reported by the read, under the same deadline.
//
// A batchConn, like any connection of a gomemcache client, is used by
// one goroutine at a time.
type batchConn struct {
	net.Conn
	pending []byte
}

// Write holds p until the next Read.
func (c *batchConn) Write(p []byte) (int, error) {
	c.pending = append(c.pending, p...)
	return len(p), nil
}

// Read sends what is held, then reads.
func (c *batchConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		_, err := c.Conn.Write(c.pending)
		if cap(c.pending) > maxKeptBuffer {
			c.pending = nil
		} else {
			c.pending = c.pending[:0]
		}
		if err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}
