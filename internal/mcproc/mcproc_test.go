package mcproc_test

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

	"github.com/mcsession/mcsession/internal/mcproc"
)

// start starts memcached with args for the test and closes it when the
// test ends. Without a memcached binary it skips the test, or fails it
// when a real server is required.
func start(t *testing.T, args ...string) *mcproc.Proc {
	t.Helper()

	if _, err := mcproc.Find(""); err != nil {
		if mcproc.RequireReal(os.Getenv) {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	p, err := mcproc.Start(mcproc.Options{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// command sends line to p and fails the test on an error.
func command(t *testing.T, p *mcproc.Proc, line string) string {
	t.Helper()

	reply, err := p.Command(line)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

// check fails the test if err is not nil.
func check(t *testing.T, err error) {
	t.Helper()

	if err != nil {
		t.Fatal(err)
	}
}

// wantVersion fails the test unless p answers the version command.
func wantVersion(t *testing.T, p *mcproc.Proc, when string) {
	t.Helper()

	if got := command(t, p, "version"); !strings.HasPrefix(got, "VERSION ") {
		t.Errorf("version %s = %q", when, got)
	}
}

// wantRefused fails the test if p accepts a connection.
func wantRefused(t *testing.T, p *mcproc.Proc, when string) {
	t.Helper()

	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("dial %s %s succeeded", p.Addr(), when)
	}
}

func TestCommandReadsMultiLineReplies(t *testing.T) {
	t.Parallel()
	p := start(t)
	command(t, p, "set metakey 0 0 3\r\nEND")

	stats := command(t, p, "stats")
	if !strings.HasPrefix(stats, "STAT pid ") ||
		!strings.HasSuffix(stats, "\r\nEND\r\n") {
		t.Errorf("stats reply = %q; want STAT lines then END", stats)
	}
	if got, want := command(t, p, "get metakey"),
		"VALUE metakey 0 3\r\nEND\r\nEND\r\n"; got != want {
		t.Errorf("get of a value reading END = %q; want %q", got, want)
	}
	dump := command(t, p, "lru_crawler metadump all")
	if !strings.Contains(dump, "key=metakey ") ||
		!strings.HasSuffix(dump, "END\r\n") {
		t.Errorf("metadump = %q; want metakey, then END", dump)
	}
}

func TestStartFailureHoldsTheServerOutput(t *testing.T) {
	t.Parallel()
	start(t) // skips without a binary

	// memcached refuses items larger than half its memory.
	_, err := mcproc.Start(mcproc.Options{Args: []string{"-m", "1",
		"-I", "1m"}})
	if err == nil || !strings.Contains(err.Error(), "item size limit") {
		t.Errorf("Start with a bad flag = %v; want memcached's complaint",
			err)
	}
}

func TestKillRefusesConnections(t *testing.T) {
	t.Parallel()
	p := start(t)

	check(t, p.Kill())
	if p.Running() {
		t.Error("Running() = true after Kill")
	}
	wantRefused(t, p, "after Kill")
	check(t, p.Kill()) // a second Kill does nothing
}

func TestRestartKeepsAddressAndLosesData(t *testing.T) {
	t.Parallel()
	p := start(t)
	addr := p.Addr()
	command(t, p, "set k 0 0 1\r\nx")

	check(t, p.Restart())
	if p.Addr() != addr {
		t.Errorf("Addr() = %s after Restart; want %s", p.Addr(), addr)
	}
	if !p.Running() {
		t.Error("Running() = false after Restart")
	}
	if got := command(t, p, "get k"); got != "END\r\n" {
		t.Errorf("get k after Restart = %q; want a miss", got)
	}

	check(t, p.Kill())
	check(t, p.Restart())
	wantVersion(t, p, "after Kill and Restart")
}

func TestRestartWaitsForABusyPort(t *testing.T) {
	t.Parallel()
	p := start(t)
	check(t, p.Kill())

	// Something else grabs the port while the server is down, and lets go
	// of it a little later.
	ln, err := net.Listen("tcp", p.Addr())
	if err != nil {
		t.Fatalf("listen on the dead server's port: %v", err)
	}
	time.AfterFunc(300*time.Millisecond, func() { ln.Close() })

	check(t, p.Restart())
	wantVersion(t, p, "after Restart on a busy port")
}

func TestPauseTimesOutAndResumeAnswers(t *testing.T) {
	t.Parallel()
	p := start(t)

	check(t, p.Pause())
	if !p.Running() {
		t.Error("Running() = false while paused")
	}
	c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
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

	check(t, p.Resume())
	wantVersion(t, p, "after Resume")
}

func TestKillAndRestartPausedServer(t *testing.T) {
	t.Parallel()
	killed, restarted := start(t), start(t)

	check(t, killed.Pause())
	check(t, killed.Kill())
	if killed.Running() {
		t.Error("Running() = true after Kill of a paused server")
	}

	check(t, restarted.Pause())
	check(t, restarted.Restart())
	wantVersion(t, restarted, "after Restart of a paused server")
}

func TestRestartKeepsTheArgs(t *testing.T) {
	t.Parallel()
	p := start(t, "-I", "2m")

	for _, when := range []string{"at start", "after Restart"} {
		settings := command(t, p, "stats settings")
		if !strings.Contains(settings, "STAT item_size_max 2097152\r\n") {
			t.Errorf("stats settings %s = %q; want item_size_max 2097152",
				when, settings)
		}
		check(t, p.Restart())
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	cert, key := writeSelfSignedCert(t)

	p := start(t, "-Z", "-o", "ssl_chain_cert="+cert+",ssl_key="+key)
	wantVersion(t, p, "over TLS")
}

func TestAuthFile(t *testing.T) {
	t.Parallel()
	authfile := filepath.Join(t.TempDir(), "auth")
	if err := os.WriteFile(authfile, []byte("user:secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	p := start(t, "-Y", authfile)
	if got := command(t, p, "version"); !strings.HasPrefix(got,
		"CLIENT_ERROR ") {
		t.Errorf("version without login = %q; want CLIENT_ERROR", got)
	}
}

func TestMethodsFromManyGoroutines(t *testing.T) {
	t.Parallel()
	p := start(t)

	verbs := []func() error{p.Pause, p.Resume, p.Kill, p.Restart,
		func() error { p.Running(); return nil }}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				if err := verbs[(g+i)%len(verbs)](); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()

	check(t, p.Restart())
	wantVersion(t, p, "after the storm")
}

func TestCloseEndsTheServerForGood(t *testing.T) {
	t.Parallel()
	p := start(t)

	p.Close()
	for _, verb := range []func() error{p.Kill, p.Pause, p.Resume,
		p.Restart} {
		if err := verb(); err != nil {
			t.Errorf("a verb after Close = %v; want nil", err)
		}
	}
	p.Close() // a second Close does nothing
	if p.Running() {
		t.Error("Running() = true after Close and Restart")
	}
	wantRefused(t, p, "after Close")
}

func TestManyParallelServers(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			p := start(t)
			command(t, p, "set k 0 0 1\r\nx")
			if got := command(t, p, "mg k v"); got != "VA 1\r\nx\r\n" {
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
