// Package testutil starts real memcached servers for tests, and lets a test
// kill, pause, resume and restart them.
//
// A typical integration test starts a small cluster and hands its addresses
// to the code under test:
//
//	func TestLogin(t *testing.T) {
//		t.Parallel()
//		servers := testutil.StartCluster(t, 3)
//		store := gorillastore.New(testutil.Addrs(servers), hashKey)
//		// ...
//		servers[1].Kill() // the session must survive one dead node
//	}
//
// Each server is a separate memcached process listening on a free loopback
// port (127.0.0.1, TCP only). Servers are stopped by t.Cleanup when the test
// ends, so tests never share a server and may run in parallel.
//
// # Finding memcached
//
// The binary is Options.Binary if set, else the path in the environment
// variable MEMCACHED_BIN, else "memcached" from PATH. On Debian and Ubuntu,
// "apt-get install -y memcached" installs it.
//
// When no binary is found, a test that asks for a server is skipped, so a
// checkout without memcached still runs its other tests. The test fails
// instead of skipping when MCSESSION_REQUIRE_MEMCACHED=1 is set, or when CI
// is set to anything but "" or "false": a CI run that silently skipped every
// integration test would prove nothing.
//
// # Platforms
//
// The package is written for Linux, where it also keeps each server's port
// bound while the server is down (so no other socket takes it before a
// restart) and has the kernel kill the servers if the test binary dies
// without running its cleanups. Elsewhere ports are picked the simple way and
// Pause and Resume report an error.
package testutil
