package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a memcached or redis-server process on a loopback port.
type server struct {
	addr string
	cmd  *exec.Cmd
	out  *bytes.Buffer
}

// startMemcached starts memcached with extra flags, its defaults
// otherwise, on a free loopback port and waits until it answers
// "version". It runs the server as root when we are root, which
// memcached otherwise refuses.
func startMemcached(extra []string) (*server, error) {
	return startServer(func(port int) []string {
		args := []string{"memcached", "-l", "127.0.0.1",
			"-p", strconv.Itoa(port), "-U", "0"}
		if os.Geteuid() == 0 {
			args = append(args, "-u", "root")
		}
		return append(args, extra...)
	}, "version\r\n", "VERSION ")
}

// startRedis starts redis-server on a free loopback port, with nothing
// written to disk, and waits until it answers PING.
func startRedis() (*server, error) {
	return startServer(func(port int) []string {
		return []string{"redis-server", "--bind", "127.0.0.1",
			"--port", strconv.Itoa(port), "--save", "",
			"--appendonly", "no", "--daemonize", "no",
			"--loglevel", "warning"}
	}, "PING\r\n", "+PONG")
}

// startServer runs the command that argv gives for a free port, and
// waits until the server answers probe with a line starting with want.
// A port that another socket takes first makes it try a fresh one.
func startServer(argv func(port int) []string, probe,
	want string) (*server, error) {
	var err error
	for range 5 {
		var port int
		if port, err = freePort(); err != nil {
			return nil, err
		}
		args := argv(port)
		s := &server{addr: "127.0.0.1:" + strconv.Itoa(port),
			out: new(bytes.Buffer)}
		s.cmd = exec.Command(args[0], args[1:]...)
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err = s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", args[0], err)
		}
		if err = s.wait(probe, want); err == nil {
			return s, nil
		}
		s.stop()
	}
	return nil, err
}

// wait polls the server with probe until it answers want, it exits, or
// ten seconds pass.
func (s *server) wait(probe, want string) error {
	exited := make(chan struct{})
	go func() {
		s.cmd.Wait()
		close(exited)
	}()

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("%s exited: %s", s.cmd.Path,
				strings.TrimSpace(s.out.String()))
		default:
		}
		if line, err := ask(s.addr, probe); err == nil &&
			strings.HasPrefix(line, want) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s on %s did not answer in time", s.cmd.Path, s.addr)
}

// cpu returns the CPU time, user and system, that the server has used:
// the 14th and 15th fields of /proc/PID/stat, in ticks of 1/100 s.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, may hold spaces: count from after it.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.ParseInt(f[11], 10, 64)
	system, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(user+system) * 10 * time.Millisecond
}

// stop kills the server.
func (s *server) stop() {
	s.cmd.Process.Kill()
}

// ask sends one line to addr and returns the first line of the reply.
func ask(addr, line string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()

	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte(line)); err != nil {
		return "", err
	}
	return bufio.NewReader(conn).ReadString('\n')
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// version returns the first line that binary prints for flag.
func version(binary, flag string) string {
	out, err := exec.Command(binary, flag).Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
