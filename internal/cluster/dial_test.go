package cluster

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcsession/mcsession/testutil"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	cert, key := issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "mcsession test CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, nil, nil)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue makes a new key and a certificate for it from tmpl, valid for
// an hour around now, signed by parent, or by itself when parent is nil.
func issue(t *testing.T, tmpl, parent *x509.Certificate,
	parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)

	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent,
		&key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// serverFiles writes a certificate for 127.0.0.1 signed by ca, and its
// key, as PEM files and returns memcached's -o option naming them.
func (ca *testCA) serverFiles(t *testing.T) string {
	t.Helper()
	cert, key := issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca.cert, ca.key)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert.pem")
	keyFile := filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", cert.Raw)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return "ssl_chain_cert=" + certFile + ",ssl_key=" + keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	b := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTLS starts a memcached that speaks TLS only, with a certificate
// from ca, and with extra flags.
func startTLS(t *testing.T, ca *testCA, extra ...string) *testutil.Server {
	t.Helper()
	args := append([]string{"-Z", "-o", ca.serverFiles(t)}, extra...)
	return testutil.StartServer(t, testutil.Options{Args: args})
}

// authFile writes a memcached -Y file and returns the flags naming it.
func authFile(t *testing.T, lines ...string) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "auth")
	content := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"-Y", path}
}

// wantSetFails fails t unless a Set on c fails as unavailable with an
// error that contains want, and returns the error.
func wantSetFails(t *testing.T, c *Cluster, want string) error {
	t.Helper()
	err := c.Set(ctx, "s", []byte("v"), time.Now().Add(time.Hour))
	if !errors.Is(err, ErrUnavailable) ||
		!strings.Contains(err.Error(), want) {
		t.Fatalf("Set = %v; want ErrUnavailable saying %q", err, want)
	}
	return err
}

func TestTLS(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	srv := startTLS(t, ca)
	c := newCluster(t, []*testutil.Server{srv}, func(cfg *Config) {
		cfg.TLS = &tls.Config{RootCAs: ca.pool}
	})

	// The first Set also reads the node's item size limit, on a
	// connection of its own.
	mustSet(t, c, "s", []byte("over TLS"))
	wantValue(t, c, "s", []byte("over TLS"))
}

func TestTLSToPlaintextServerSaysTLS(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t)
	c := newCluster(t, []*testutil.Server{srv}, func(cfg *Config) {
		cfg.TLS = &tls.Config{RootCAs: newCA(t).pool}
	})
	wantSetFails(t, c, "tls handshake with "+srv.Addr())
}

func TestTLSWithCertificateFromOtherCA(t *testing.T) {
	t.Parallel()
	srv := startTLS(t, newCA(t))
	c := newCluster(t, []*testutil.Server{srv}, func(cfg *Config) {
		cfg.TLS = &tls.Config{RootCAs: newCA(t).pool}
	})

	err := wantSetFails(t, c, "tls handshake with "+srv.Addr())
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Errorf("Set = %v; want a certificate verification error", err)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{
		Args: authFile(t, "ann:s3cret", "bob:other")})
	c := newCluster(t, []*testutil.Server{srv}, func(cfg *Config) {
		cfg.Username, cfg.Password = "ann", "s3cret"
	})
	mustSet(t, c, "s", []byte("logged in"))
	wantValue(t, c, "s", []byte("logged in"))
}

// A node that refuses the credentials fails with an error that says so,
// and is ejected like a node that is down.
func TestWrongPasswordFailsAndEjects(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{
		Args: authFile(t, "ann:s3cret")})
	var logs syncBuffer
	c := newCluster(t, []*testutil.Server{srv}, func(cfg *Config) {
		cfg.Username, cfg.Password = "ann", "wrong"
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})

	err := wantSetFails(t, c, "login to "+srv.Addr()+
		": authentication failed")
	if !errors.Is(err, errAuthFailed) {
		t.Errorf("Set = %v; want errAuthFailed", err)
	}
	for i := 0; len(c.Replicas("s")) > 0; i++ {
		if i == DefaultFailureLimit {
			t.Fatalf("node not ejected after %d failed writes", i+1)
		}
		wantSetFails(t, c, "")
	}
	if !strings.Contains(logs.String(), "node ejected") ||
		!strings.Contains(logs.String(), "authentication failed") {
		t.Errorf("log does not say why the node was ejected:\n%s",
			logs.String())
	}
}

// Credentials given for a node that does not check them work, and the
// node keeps nothing of them.
func TestLoginToOpenServerStoresNothing(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t)
	c := newCluster(t, []*testutil.Server{srv}, func(cfg *Config) {
		cfg.Username, cfg.Password = "ann", "s3cret"
	})
	mustSet(t, c, "s", []byte("v"))
	if got := srv.Command(t, "mg "+loginKey+" v"); got != "EN\r\n" {
		t.Errorf("mg %s = %q; want EN", loginKey, got)
	}
}

func TestTLSAndLogin(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	srv := startTLS(t, ca, authFile(t, "ann:s3cret")...)
	c := newCluster(t, []*testutil.Server{srv}, func(cfg *Config) {
		cfg.TLS = &tls.Config{RootCAs: ca.pool}
		cfg.Username, cfg.Password = "ann", "s3cret"
	})
	mustSet(t, c, "s", []byte("v"))
	wantValue(t, c, "s", []byte("v"))

	big := bytes.Repeat([]byte("b"), 64<<10) // many TLS records, one write
	mustSet(t, c, "big", big)
	wantValue(t, c, "big", big)
}
