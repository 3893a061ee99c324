package cluster

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/mcsession/mcsession/testutil"
)

// recordingConn records each Write it is given and answers Reads with
// "STORED\r\n".
type recordingConn struct {
	net.Conn
	writes   [][]byte
	writeErr error
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), c.writeErr
}

func (c *recordingConn) Read(p []byte) (int, error) {
	return copy(p, "STORED\r\n"), nil
}

// A command written in pieces, as gomemcache's 4 KiB buffer writes a set
// of a larger session, leaves in one write when its reply is read.
func TestBatchConnSendsACommandInOneWrite(t *testing.T) {
	t.Parallel()
	rec := &recordingConn{}
	c := &batchConn{Conn: rec}
	value := bytes.Repeat([]byte("v"), 64<<10)
	for _, p := range [][]byte{[]byte("set k 0 0 65536\r\n"), value[:4096],
		value[4096:], []byte("\r\n")} {
		if n, err := c.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if len(rec.writes) != 0 {
		t.Fatalf("%d writes before the reply was read; want none",
			len(rec.writes))
	}

	reply := make([]byte, 64)
	n, err := c.Read(reply)
	if err != nil || string(reply[:n]) != "STORED\r\n" {
		t.Fatalf("Read = %q, %v", reply[:n], err)
	}
	want := "set k 0 0 65536\r\n" + string(value) + "\r\n"
	if len(rec.writes) != 1 || string(rec.writes[0]) != want {
		t.Fatalf("%d writes; want the command in one", len(rec.writes))
	}
	if c.pending != nil {
		t.Errorf("kept a %d-byte buffer; want a large one let go",
			cap(c.pending))
	}

	c.Read(reply)
	if len(rec.writes) != 1 {
		t.Errorf("a second Read wrote again")
	}
}

// A write that fails is reported by the Read that sent it.
func TestBatchConnReportsWriteErrorOnRead(t *testing.T) {
	t.Parallel()
	broken := errors.New("broken pipe")
	c := &batchConn{Conn: &recordingConn{writeErr: broken}}
	c.Write([]byte("get k\r\n"))
	if _, err := c.Read(make([]byte, 8)); !errors.Is(err, broken) {
		t.Errorf("Read = %v; want the write's error", err)
	}
}

// Connections to a node batch writes, and sessions of every size
// round-trip through them. (TestTLSAndLogin covers the others.)
func TestNodeConnectionsBatchWrites(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t)
	c := newCluster(t, []*testutil.Server{srv}, nil)
	n := c.nodes[0]
	conn, err := n.dial(context.Background(), n.addr.Network(),
		n.addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, ok := conn.(*batchConn); !ok {
		t.Fatalf("dial gave a %T; want a *batchConn", conn)
	}

	for _, size := range []int{1, 4096, 64 << 10, 200 << 10} {
		value := []byte(strings.Repeat("s", size))
		mustSet(t, c, "batched", value)
		wantValue(t, c, "batched", value)
	}
}
