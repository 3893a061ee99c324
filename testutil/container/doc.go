// Package container starts real Memcached servers in Docker containers for
// tests, through testcontainers-go, and lets a test kill, stop, pause and
// restart them.
//
// It does for containers what package testutil does for local memcached
// processes, and is a separate package so that only the tests that import
// it compile testcontainers-go and the Docker client:
//
//	func TestLogin(t *testing.T) {
//		t.Parallel()
//		servers := container.StartCluster(t, 2)
//		store := gorillastore.New(container.Addrs(servers), hashKey)
//		// ...
//		servers[0].Kill() // the session must survive one dead node
//	}
//
// Each server is a container of its own with memcached's port 11211
// published on a free loopback port, "127.0.0.1:PORT", which Addr returns.
// Containers are removed by t.Cleanup when the test ends, so tests never
// share a server and may run in parallel.
//
// # The image
//
// The image is Options.Image if set, else the one the environment variable
// MCSESSION_MEMCACHED_IMAGE names, else memcached:1.6-alpine. The command
// run is "memcached" followed by Options.Args, which suits the official
// image and the local one below.
//
// A machine that cannot pull images builds a local image from its own
// memcached binary with the repository's scripts/build-memcached-image.sh,
// which prints its tag, mcsession/memcached:local; set
// MCSESSION_MEMCACHED_IMAGE to it. When no image is named and
// memcached:1.6-alpine is not on the machine, the local image is used if it
// is there, before any attempt to pull.
//
// # When Docker is missing
//
// When the Docker engine cannot be reached, or the image is neither present
// nor pullable, a test that asks for a server is skipped with a message
// that says why. It fails instead when MCSESSION_REQUIRE_DOCKER=1 is set, as
// it is in this repository's CI. Unlike package testutil, the package does
// not read CI, because many CI runners have no Docker engine.
//
// # Ryuk
//
// testcontainers-go normally starts Ryuk, a reaper container that removes
// a test binary's containers after it dies. Where Ryuk's image cannot be
// pulled, set TESTCONTAINERS_RYUK_DISABLED=true, as testcontainers-go
// documents; a test asking for a server otherwise skips or fails saying so.
// The package does not rely on Ryuk: every container is removed by
// t.Cleanup. For a test binary that dies before its cleanups run (a -timeout
// panic, a kill), the package's first Start in each later test binary removes
// the containers it left behind, recognised by labels naming the host and
// the process that started them.
package container
