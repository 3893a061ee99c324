package mcproc

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// reservePort binds a socket to a free loopback port and keeps it until
// release is called. The socket never listens, so clients of the port get
// "connection refused" while no server runs on it. It sets SO_REUSEADDR,
// as memcached does, so memcached can bind the port next to it; while it is
// held, the kernel hands the port to no other socket that lets it choose.
func reservePort() (port int, release func(), err error) {
	fd, err := syscall.Socket(syscall.AF_INET,
		syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, nil, fmt.Errorf("reserve a port: %w", err)
	}

	err = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET,
		syscall.SO_REUSEADDR, 1)
	if err == nil {
		loopback := &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
		err = syscall.Bind(fd, loopback)
	}
	var sa syscall.Sockaddr
	if err == nil {
		sa, err = syscall.Getsockname(fd)
	}
	if err != nil {
		syscall.Close(fd)
		return 0, nil, fmt.Errorf("reserve a port: %w", err)
	}

	release = func() { syscall.Close(fd) }
	return sa.(*syscall.SockaddrInet4).Port, release, nil
}

// sysProcAttr has the kernel kill a server when the program that started it
// dies, even if it dies without calling Close (a panic, a test timeout). The
// signal is tied to the thread that started the server, and the Go runtime
// keeps its threads, except those of goroutines that exit while locked to
// one with runtime.LockOSThread.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// signalPause stops the process with SIGSTOP, or continues it with
// SIGCONT, and waits until the kernel says it is stopped or running: a
// signal is only queued when Signal returns, and a test that pauses a
// server must not see it answer afterwards.
func signalPause(p *os.Process, pause bool) error {
	sig := syscall.SIGCONT
	if pause {
		sig = syscall.SIGSTOP
	}
	if err := p.Signal(sig); err != nil {
		return err
	}

	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		if stopped(p.Pid) == pause {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("process %d did not take %v within 2s", p.Pid, sig)
}

// stopped reports whether the process is stopped by a signal, from the
// state field of /proc/PID/stat (after the command name, which may hold
// spaces, in parentheses).
func stopped(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	return ok && strings.HasPrefix(rest, "T")
}
