//go:build !linux

package mcproc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

var errNeedsLinux = errors.New("pause and resume need Linux")

// reservePort finds a free loopback port. Unlike on Linux, the port is
// free again once reservePort returns, so another socket may take it.
func reservePort() (port int, release func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, fmt.Errorf("find a free port: %w", err)
	}
	port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port, func() {}, nil
}

func sysProcAttr() *syscall.SysProcAttr { return nil }

func signalPause(*os.Process, bool) error { return errNeedsLinux }
