package mcproc

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Command sends one command of memcached's text protocol on a new
// connection and returns the whole reply, line endings included. It adds
// the final "\r\n" itself, so a storage command passes its data after an
// inner "\r\n": "set k 0 0 1\r\nx" stores "x".
//
// Command reads up to the line that ends the reply: END after get, stats
// and lru_crawler metadump; the data block after VA; otherwise a single
// status line such as STORED, HD, EN, OK, ERROR or CLIENT_ERROR. Commands
// that answer nothing (noreply, quiet meta flags) or that stream (watch)
// wait for the reply until a timeout and return an error. On an error the
// reply holds what arrived before it.
func (p *Proc) Command(line string) (string, error) {
	reply, err := p.roundTrip(line, commandTimeout)
	if err != nil {
		return reply, fmt.Errorf("mcproc: %s: command %q: %w (got %q)",
			p.addr, line, err, reply)
	}
	return reply, nil
}

// roundTrip sends line on a new connection and reads the reply, all within
// timeout.
func (p *Proc) roundTrip(line string, timeout time.Duration) (string, error) {
	conn, err := p.dial(timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()

	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, line+"\r\n"); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(conn))
}

// readReply reads one reply of the text protocol, through its last line.
func readReply(r *bufio.Reader) (string, error) {
	var reply strings.Builder
	for first := true; ; first = false {
		line, err := r.ReadString('\n')
		reply.WriteString(line)
		if err != nil {
			return reply.String(), err
		}

		fields := strings.Fields(line)
		if n, ok := blockSize(fields); ok {
			block := make([]byte, n+len("\r\n"))
			_, err := io.ReadFull(r, block)
			reply.Write(block)
			if err != nil || fields[0] == "VA" {
				return reply.String(), err
			}
			continue
		}
		if isLastLine(fields, first) {
			return reply.String(), nil
		}
	}
}

// blockSize reports the length of the data block that follows a reply
// line: "VALUE key flags bytes [cas]" or "VA bytes [flags]".
func blockSize(fields []string) (int, bool) {
	i := 0
	switch {
	case len(fields) >= 4 && fields[0] == "VALUE":
		i = 3
	case len(fields) >= 2 && fields[0] == "VA":
		i = 1
	default:
		return 0, false
	}
	n, err := strconv.Atoi(fields[i])
	return n, err == nil && n >= 0
}

// isLastLine reports whether a reply line ends the reply. A bare number
// does only as the first line: it is the reply to incr and decr.
func isLastLine(fields []string, first bool) bool {
	if len(fields) == 0 {
		return false
	}
	switch fields[0] {
	case "END", "OK", "ERROR", "RESET", "VERSION",
		"CLIENT_ERROR", "SERVER_ERROR",
		"STORED", "NOT_STORED", "EXISTS", "NOT_FOUND", "DELETED", "TOUCHED",
		"HD", "EN", "NF", "NS", "EX", "MN", "ME",
		"BUSY", "BADCLASS", "NOSPARE", "NOTFULL", "UNSAFE", "SAME":
		return true
	}
	_, err := strconv.ParseUint(fields[0], 10, 64)
	return first && len(fields) == 1 && err == nil
}
