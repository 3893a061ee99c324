package mcproc

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Find returns the path of the memcached binary that Start would run with
// Options.Binary set to binary: binary itself if it is not "", else the
// environment variable MEMCACHED_BIN, else "memcached" from PATH. When
// there is none, the error says how to install one.
func Find(binary string) (string, error) {
	path, err := findBinary(binary, os.Getenv)
	if err != nil {
		return "", fmt.Errorf("mcproc: no memcached binary (%w); install "+
			"one with \"apt-get install -y memcached\" or set "+
			"MEMCACHED_BIN to its path", err)
	}
	return path, nil
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

// RequireReal reports whether a test that finds no memcached binary must
// fail rather than skip: when MCSESSION_REQUIRE_MEMCACHED is "1", or CI is
// set to anything but "" or "false" (a CI run that silently skipped every
// integration test would prove nothing). Pass os.Getenv as getenv.
func RequireReal(getenv func(string) string) bool {
	if getenv("MCSESSION_REQUIRE_MEMCACHED") == "1" {
		return true
	}
	ci := getenv("CI")
	return ci != "" && !strings.EqualFold(ci, "false")
}
