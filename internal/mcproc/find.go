package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// RequireBinary returns the path of the memcached binary that StartServer
// would run by default: $MEMCACHED_BIN if set, else "memcached" from PATH.
// If there is none it skips the test, or fails it when a real server is
// required (see the package documentation).
func RequireBinary(t testing.TB) string {
	t.Helper()

	return findOrSkip(t, "")
}

// findOrSkip finds the binary named by explicit, or the default one, or
// ends the test.
func findOrSkip(t testing.TB, explicit string) string {
	t.Helper()

	path, err := findBinary(explicit, os.Getenv)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("testutil: no memcached binary (%v); install one "+
		"with \"apt-get install -y memcached\" or set MEMCACHED_BIN to "+
		"its path", err)
	if requireReal(os.Getenv) {
		t.Fatal(msg)
	}
	t.Skip(msg + " (set MCSESSION_REQUIRE_MEMCACHED=1 to fail instead)")
	return ""
}

// findBinary resolves explicit, else $MEMCACHED_BIN, else "memcached", to
// the path of an executable file.
func findBinary(explicit string, getenv func(string) string) (string, error) {
	name := explicit
	if name == "" {
		name = getenv("MEMCACHED_BIN")
	}
	if name == "" {
		name = "memcached"
	}
	return exec.LookPath(name)
}

// requireReal reports whether a missing memcached must fail tests rather
// than skip them: when MCSESSION_REQUIRE_MEMCACHED is "1", or CI is set to
// anything but "false".
func requireReal(getenv func(string) string) bool {
	if getenv("MCSESSION_REQUIRE_MEMCACHED") == "1" {
		return true
	}
	ci := getenv("CI")
	return ci != "" && !strings.EqualFold(ci, "false")
}
