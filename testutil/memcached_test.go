package testutil_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcsession/mcsession/testutil"
)

func TestSetAndGet(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)

	tests := []struct{ command, want string }{
		{"set k 0 0 1\r\nx", "STORED\r\n"},
		{"get k", "VALUE k 0 1\r\nx\r\nEND\r\n"},
		{"mg k v", "VA 1\r\nx\r\n"},
		{"mg missing v", "EN\r\n"},
		{"set n 0 0 1\r\n7", "STORED\r\n"},
		{"incr n 5", "12\r\n"},
		{"delete k", "DELETED\r\n"},
		{"no_such_command", "ERROR\r\n"},
	}
	for _, tt := range tests {
		if got := s.Command(t, tt.command); got != tt.want {
			t.Errorf("Command(%q) = %q; want %q", tt.command, got, tt.want)
		}
	}
}

func TestCommandReadsMultiLineReplies(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)
	s.Command(t, "set metakey 0 0 3\r\nEND")

	stats := s.Command(t, "stats")
	if !strings.HasPrefix(stats, "STAT pid ") ||
		!strings.HasSuffix(stats, "\r\nEND\r\n") {
		t.Errorf("stats reply = %q; want STAT lines then END", stats)
	}
	if got, want := s.Command(t, "get metakey"),
		"VALUE metakey 0 3\r\nEND\r\nEND\r\n"; got != want {
		t.Errorf("get of a value reading END = %q; want %q", got, want)
	}
	dump := s.Command(t, "lru_crawler metadump all")
	if !strings.Contains(dump, "key=metakey ") ||
		!strings.HasSuffix(dump, "END\r\n") {
		t.Errorf("metadump = %q; want metakey, then END", dump)
	}
}

func TestStartClusterServersAreDistinct(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 3)

	addrs := testutil.Addrs(servers)
	seen := map[string]bool{}
	for i, s := range servers {
		if addrs[i] != s.Addr() {
			t.Errorf("Addrs()[%d] = %q; want %q", i, addrs[i], s.Addr())
		}
		if seen[s.Addr()] {
			t.Errorf("address %s given twice", s.Addr())
		}
		seen[s.Addr()] = true

		key := fmt.Sprintf("k%d", i)
		s.Command(t, "set "+key+" 0 0 1\r\nx")
		for j, other := range servers {
			hit := other.Command(t, "mg "+key) == "HD\r\n"
			if hit != (i == j) {
				t.Errorf("%s on server %d: hit = %v", key, j, hit)
			}
		}
	}
}

func TestKillRefusesConnections(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)

	s.Kill()
	if s.Running() {
		t.Error("Running() = true after Kill")
	}
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("dial %s after Kill succeeded", s.Addr())
	}
	s.Kill() // a second Kill does nothing
}

func TestRestartKeepsAddressAndLosesData(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)
	addr := s.Addr()
	s.Command(t, "set k 0 0 1\r\nx")

	s.Restart()
	if s.Addr() != addr {
		t.Errorf("Addr() = %s after Restart; want %s", s.Addr(), addr)
	}
	if !s.Running() {
		t.Error("Running() = false after Restart")
	}
	if got := s.Command(t, "get k"); got != "END\r\n" {
		t.Errorf("get k after Restart = %q; want a miss", got)
	}

	s.Kill()
	s.Restart()
	if got := s.Command(t, "version"); !strings.HasPrefix(got, "VERSION ") {
		t.Errorf("version after Kill and Restart = %q", got)
	}
}

func TestRestartWaitsForABusyPort(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)
	s.Kill()

	// Something else grabs the port while the server is down, and lets go
	// of it a little later.
	ln, err := net.Listen("tcp", s.Addr())
	if err != nil {
		t.Fatalf("listen on the dead server's port: %v", err)
	}
	time.AfterFunc(300*time.Millisecond, func() { ln.Close() })

	s.Restart()
	if got := s.Command(t, "version"); !strings.HasPrefix(got, "VERSION ") {
		t.Errorf("version after Restart on a busy port = %q", got)
	}
}

func TestPauseTimesOutAndResumeAnswers(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)

	s.Pause()
	if !s.Running() {
		t.Error("Running() = false while paused")
	}
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		t.Fatalf("dial paused server: %v", err)
	}
	defer c.Close()
	fmt.Fprint(c, "version\r\n")
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	line, err := bufio.NewReader(c).ReadString('\n')
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("read from paused server = %q, %v; want a timeout",
			line, err)
	}

	s.Resume()
	if got := s.Command(t, "version"); !strings.HasPrefix(got, "VERSION ") {
		t.Errorf("version after Resume = %q", got)
	}
}

func TestKillAndRestartPausedServer(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 2)

	servers[0].Pause()
	servers[0].Kill()
	if servers[0].Running() {
		t.Error("Running() = true after Kill of a paused server")
	}

	servers[1].Pause()
	servers[1].Restart()
	got := servers[1].Command(t, "version")
	if !strings.HasPrefix(got, "VERSION ") {
		t.Errorf("version after Restart of a paused server = %q", got)
	}
}

func TestOptionsArgs(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t, testutil.Options{Args: []string{"-I", "2m"}})

	settings := s.Command(t, "stats settings")
	if !strings.Contains(settings, "STAT item_size_max 2097152\r\n") {
		t.Errorf("stats settings = %q; want item_size_max 2097152",
			settings)
	}

	s.Restart()
	settings = s.Command(t, "stats settings")
	if !strings.Contains(settings, "STAT item_size_max 2097152\r\n") {
		t.Error("Restart dropped the -I flag")
	}
}

func TestOptionsBinary(t *testing.T) {
	t.Parallel()
	bin := testutil.RequireBinary(t)

	s := testutil.StartServer(t, testutil.Options{Binary: bin})
	if got := s.Command(t, "version"); !strings.HasPrefix(got, "VERSION ") {
		t.Errorf("version = %q", got)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	cert, key := writeSelfSignedCert(t)

	s := testutil.StartServer(t, testutil.Options{Args: []string{"-Z",
		"-o", "ssl_chain_cert=" + cert + ",ssl_key=" + key}})
	if got := s.Command(t, "version"); !strings.HasPrefix(got, "VERSION ") {
		t.Errorf("version over TLS = %q", got)
	}
}

func TestAuthFile(t *testing.T) {
	t.Parallel()
	authfile := filepath.Join(t.TempDir(), "auth")
	if err := os.WriteFile(authfile, []byte("user:secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	s := testutil.StartServer(t, testutil.Options{Args: []string{"-Y", authfile}})
	got := s.Command(t, "version")
	if !strings.HasPrefix(got, "CLIENT_ERROR ") {
		t.Errorf("version without login = %q; want CLIENT_ERROR", got)
	}
}

func TestMethodsFromManyGoroutines(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				switch (g + i) % 5 {
				case 0:
					s.Pause()
				case 1:
					s.Resume()
				case 2:
					s.Kill()
				case 3:
					s.Restart()
				case 4:
					s.Running()
				}
			}
		})
	}
	wg.Wait()

	s.Restart()
	if got := s.Command(t, "version"); !strings.HasPrefix(got, "VERSION ") {
		t.Errorf("version after the storm = %q", got)
	}
}

func TestServerIsStoppedWhenItsTestEnds(t *testing.T) {
	t.Parallel()
	var s *testutil.Server
	t.Run("owner", func(t *testing.T) {
		s = testutil.StartServer(t)
	})

	s.Restart() // too late: must not start a process nobody stops
	if s.Running() {
		t.Error("Running() = true after the owning test ended")
	}
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("dial %s after the owning test ended succeeded", s.Addr())
	}
}

func TestManyParallelServers(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			s := testutil.StartServer(t)
			s.Command(t, "set k 0 0 1\r\nx")
			if got := s.Command(t, "mg k v"); got != "VA 1\r\nx\r\n" {
				t.Errorf("mg k v = %q", got)
			}
		})
	}
}

// writeSelfSignedCert writes a certificate for 127.0.0.1 and its key, and
// returns their paths.
func writeSelfSignedCert(t *testing.T) (certPath, keyPath string) {
	t.Helper()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl,
		&key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	certPath = filepath.Join(dir, "cert.pem")
	keyPath = filepath.Join(dir, "key.pem")
	writePEM(t, certPath, "CERTIFICATE", der)
	writePEM(t, keyPath, "EC PRIVATE KEY", keyDER)
	return certPath, keyPath
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()

	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
