//go:build unix

package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// lockedBuffer is a buffer two goroutines may use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// SIGTERM to 'parascope serve' tells the open session the server is
// shutting down, logs it, and ends the command without an error.
func TestServeStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	client, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, gossh.MarshalAuthorizedKey(client.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}

	// The command says its address, and logs its sessions, on stderr.
	stderr := &lockedBuffer{}
	old := os.Stderr
	r, w, _ := os.Pipe()
	os.Stderr = w
	copied := make(chan struct{})
	go func() { io.Copy(stderr, r); close(copied) }()
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"serve", "--listen", "127.0.0.1:0", "--authorized-keys", keys,
			"--host-key", filepath.Join(dir, "host_key"), "--export-dir", filepath.Join(dir, "exports"),
			"--prompt", "draw a big red circle at the top left"})
	}()
	restore := func() {
		w.Close()
		<-copied
		os.Stderr = old
	}

	listening := regexp.MustCompile(`on (127\.0\.0\.1:\d+) \(host key`)
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		restore()
		t.Fatalf("the server did not say where it listens:\n%s", stderr.String())
	}
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "viewer", Auth: []gossh.AuthMethod{gossh.PublicKeys(client)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		restore()
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		restore()
		t.Fatal(err)
	}
	out := &lockedBuffer{}
	s.Stdout, s.Stderr = out, out
	in, _ := s.StdinPipe()
	defer in.Close()
	err = s.RequestPty("xterm-256color", 40, 120, nil)
	if err == nil {
		err = s.Shell()
	}
	if err != nil {
		restore()
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "step 0/") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		restore()
		t.Skip("cannot signal this process:", err)
	}
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		restore()
		t.Fatalf("SIGTERM did not stop the server:\n%s", stderr.String())
	}
	restore()
	if err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, stderr.String())
	}
	s.Wait()
	if !strings.Contains(out.String(), "step 0/") || !strings.Contains(out.String(), "parascope: server shutting down") {
		t.Errorf("the session was not told:\n%q", out.String())
	}
	log := stderr.String()
	if !strings.Contains(log, "parascope serve: shutting down") || !strings.Contains(log, "0 steps (server shutting down)") {
		t.Errorf("log:\n%s", log)
	}
}
