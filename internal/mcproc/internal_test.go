package mcproc

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRequireReal(t *testing.T) {
	t.Parallel()

	tests := []struct {
		require, ci string
		want        bool
	}{
		{"", "", false},
		{"", "false", false},
		{"", "FALSE", false},
		{"", "true", true},
		{"", "1", true},
		{"", "woodpecker", true},
		{"1", "", true},
		{"1", "false", true},
		{"0", "", false},
		{"yes", "", false},
	}
	for _, tt := range tests {
		env := map[string]string{
			"MCSESSION_REQUIRE_MEMCACHED": tt.require,
			"CI":                          tt.ci,
		}
		getenv := func(k string) string { return env[k] }
		if got := RequireReal(getenv); got != tt.want {
			t.Errorf("RequireReal(MCSESSION_REQUIRE_MEMCACHED=%q CI=%q) "+
				"= %v; want %v", tt.require, tt.ci, got, tt.want)
		}
	}
}

func TestFindBinary(t *testing.T) {
	t.Parallel()
	none := func(string) string { return "" }
	missing := func(k string) string {
		if k == "MEMCACHED_BIN" {
			return "/nonexistent/memcached"
		}
		return ""
	}

	if _, err := findBinary("/nonexistent/memcached", none); err == nil {
		t.Error("findBinary of a missing explicit path succeeded")
	}
	if _, err := findBinary("", missing); err == nil {
		t.Error("findBinary with a missing MEMCACHED_BIN succeeded")
	}
	// An explicit binary wins over MEMCACHED_BIN.
	if _, err := findBinary("/bin/sh", missing); err != nil {
		t.Errorf("findBinary(/bin/sh) = %v", err)
	}
}

func TestReadReplyStopsAtTheEnd(t *testing.T) {
	t.Parallel()

	tests := []struct{ name, reply string }{
		{"status", "STORED\r\n"},
		{"meta hit without value", "HD t-1 f0\r\n"},
		{"meta miss", "EN\r\n"},
		{"meta value", "VA 3 t-1\r\nEND\r\n"},
		{"meta value reading HD", "VA 2\r\nHD\r\n"},
		{"incr", "42\r\n"},
		{"get hit reading END", "VALUE k 0 3\r\nEND\r\nEND\r\n"},
		{"get hit reading a number", "VALUE k 0 1\r\n7\r\nEND\r\n"},
		{"gets two keys", "VALUE a 0 1 5\r\nx\r\nVALUE b 0 0 6\r\n\r\nEND\r\n"},
		{"stats", "STAT pid 1\r\nSTAT uptime 2\r\nEND\r\n"},
		{"metadump", "key=a exp=-1 la=1 cas=2 fetch=no cls=1 size=63\r\n" +
			"END\r\n"},
		{"client error", "CLIENT_ERROR bad data chunk\r\n"},
		{"unknown command", "ERROR\r\n"},
	}
	for _, tt := range tests {
		r := bufio.NewReader(strings.NewReader(tt.reply + "NEXT\r\n"))
		got, err := readReply(r)
		if got != tt.reply || err != nil {
			t.Errorf("%s: readReply = %q, %v; want %q", tt.name, got, err,
				tt.reply)
		}
	}
}

func TestReadReplyCutShort(t *testing.T) {
	t.Parallel()

	for _, reply := range []string{"VALUE k 0 5\r\nab", "STAT pid 1\r\n"} {
		r := bufio.NewReader(strings.NewReader(reply))
		got, err := readReply(r)
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("readReply(%q) = %q, %v; want an EOF error",
				reply, got, err)
		}
	}
}

func TestFindSaysHowToInstall(t *testing.T) {
	t.Parallel()

	_, err := Find("/nonexistent/memcached")
	if err == nil || !strings.Contains(err.Error(),
		"apt-get install -y memcached") {
		t.Errorf("Find of a missing binary = %v; want how to install", err)
	}
}
