// Package redisserver runs real redis-server processes for the module's
// tests: each on a free loopback port, with no persistence, killed when
// the test ends. Tests can kill, restart and slow a server to see how the
// stores behave when Redis fails.
//
// It needs the redis-server binary (Debian: apt-get install redis-server),
// which the repository's CI script installs when it is missing.
package redisserver

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one redis-server process.
type Server struct {
	t    testing.TB
	bin  string
	port int
	dir  string
	args []string // beyond the defaults: Cluster mode's

	mu     sync.Mutex
	proc   *os.Process
	exited chan error // receives cmd.Wait's result once the process ends
}

// Start runs a server for t and stops it when t ends. It fails t when the
// binary is missing or the server does not come up.
func Start(t testing.TB) *Server {
	t.Helper()
	return launch(t, false)
}

// StartCluster runs a server in Cluster mode that serves every slot
// alone (a one-node Cluster: it refuses a command whose keys are in
// different slots, as a real Cluster does), for t, and stops it when t
// ends.
func StartCluster(t testing.TB) *Server {
	t.Helper()
	s := launch(t, true)
	if _, err := s.Do("CLUSTER", "ADDSLOTSRANGE", "0", "16383"); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
	}
	// The node refuses keys (CLUSTERDOWN) until it has taken the slots; a
	// read asks without leaving a key behind.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.Do("GET", "redisserver:ready")
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Cluster node does not serve its slots: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// launch starts a server on a free port, in Cluster mode when asked (with
// a free port for the cluster bus too).
func launch(t testing.TB, cluster bool) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (apt-get install -y redis-server): %v", err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	for range 10 { // another process may take a free port before us
		s.port = freePort(t)
		if cluster {
			s.args = []string{"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(freePort(t)),
				"--cluster-config-file", filepath.Join(s.dir, "nodes.conf")}
		}
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("redis-server did not start: %v", err)
	}
	t.Cleanup(s.Kill)
	return s
}

// Client returns a go-redis client of the server, its options changed by
// opts first, closed when t ends. Closing it waits for go-redis's dial
// probes to end too: a client whose dials kept failing (its server
// killed) probes once a second on a goroutine of its own until a dial
// succeeds or it sees the client closed, which a goroutine-leak check
// would otherwise report. The wait is for every probe of the process (a
// probe does not say whose it is): it fails t when a client still open
// keeps probing a server that is gone.
func (s *Server) Client(t testing.TB, opts ...func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{Addr: s.Addr()}
	for _, f := range opts {
		f(o)
	}
	rdb := redis.NewClient(o)
	t.Cleanup(func() {
		_ = rdb.Close()
		awaitDialProbes(t)
	})
	return rdb
}

// awaitDialProbes reads every goroutine's stack until none is in a dial
// probe, for 3s at most: go-redis offers no way to wait for them.
func awaitDialProbes(t testing.TB) {
	buf := make([]byte, 1<<20)
	for range 300 {
		if !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "ConnPool).tryDial") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("go-redis's dial probe outlived its client by 3s")
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Kill stops the server at once (SIGKILL): connections drop, state is
// lost. Killing a stopped server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	_ = s.proc.Kill()
	<-s.exited
	s.proc = nil
}

// Restart starts a killed server again on the same port, empty.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	var err error
	for range 50 { // the port may linger for a moment after the kill
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("redis-server did not restart: %v", err)
}

// Do sends one command on a connection of its own and returns the reply's
// first line (for DEBUG SLEEP, CLIENT PAUSE, FLUSHALL and the like in
// tests, without a client library).
func (s *Server) Do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "-") {
		return "", errors.New(line[1:])
	}
	return line, nil
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--enable-debug-command", "local", "--loglevel", "warning")
	cmd.Args = append(cmd.Args, s.args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("redis-server exited: %v", err)
		default:
		}
		if pong, err := s.Do("PING"); err == nil && pong == "+PONG" {
			s.proc, s.exited = cmd.Process, exited
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("no PONG within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
